/// A `{regex: …}` condition on a path or a header: attache's own linear-time engine
/// (`RegexSyntax`, `RegexProgram`), searched (not anchored) like nginx's `~` locations.
///
/// Not Swift's `Regex`: that engine backtracks, so a pattern such as `(a+)+$` could be made to
/// run for seconds by one crafted request, and it needs a `String` per match. Like Envoy with
/// RE2, attache only accepts what can be matched in time linear in the input, over the bytes.
public struct PathRegex: Sendable {
    public struct CompileError: Error {
        public var message: String
        /// Unicode-scalar offset in the pattern, when the error has a position.
        public var offset: Int?
    }

    public let pattern: String
    /// Named groups (`(?<name>…)`), in order: they become `path.NAME`.
    public let captureNames: [String]
    /// Bytes every matching input starts with, when the pattern is anchored and begins with
    /// literal text (`^/v[0-9]+/` → `/v`): the rule table indexes the regex under that prefix,
    /// so it is only tested on paths that could match.
    public let literalPrefix: [UInt8]?
    let program: RegexProgram
    /// Capture slot of each named group.
    private let namedSlots: [Int]

    public init(_ pattern: String) throws(CompileError) {
        let syntax: (node: RegexSyntax.Node, captureNames: [String?])
        do {
            syntax = try RegexSyntax.parse(pattern)
        } catch {
            throw CompileError(message: error.message, offset: error.offset)
        }
        do {
            program = try RegexProgram(syntax.node, groups: syntax.captureNames.count)
        } catch {
            throw CompileError(message: error.message, offset: nil)
        }
        self.pattern = pattern
        captureNames = syntax.captureNames.compactMap { $0 }
        namedSlots = syntax.captureNames.enumerated().compactMap { $0.element == nil ? nil : 2 * ($0.offset + 1) }
        literalPrefix = PathRegex.literalPrefix(of: syntax.node)
    }

    /// Whether the pattern matches anywhere in `bytes`. Allocates nothing.
    public func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        program.search(bytes)
    }

    /// Like `matches`, and fills `captures` with the byte range of each named group
    /// (`0..<0` for a group that did not take part).
    public func matches(_ bytes: UnsafeRawBufferPointer, captures: inout [Range<Int>]) -> Bool {
        guard let slots = program.captures(bytes) else { return false }
        for slot in namedSlots {
            let start = slots[slot]
            let end = slots[slot + 1]
            captures.append(start >= 0 && end >= start ? start..<end : 0..<0)
        }
        return true
    }

    public func matches(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { matches($0) }
    }

    /// The literal bytes after a leading `^` (`nil` unless they start with `/`).
    static func literalPrefix(of node: RegexSyntax.Node) -> [UInt8]? {
        guard case .concatenation(let items) = node, case .assertion(.start)? = items.first else { return nil }
        var prefix: [UInt8] = []
        for item in items.dropFirst() {
            if case .bytes(let set) = item, let byte = set.singleByte {
                prefix.append(byte)
                continue
            }
            // `b+` still starts with one `b`; nothing after it is certain.
            if case .repetition(.bytes(let set), let minimum, _, _) = item, minimum >= 1, let byte = set.singleByte {
                prefix.append(byte)
            }
            break
        }
        return prefix.first == UInt8(ascii: "/") ? prefix : nil
    }

    static func literalPrefix(of pattern: String) -> [UInt8]? {
        (try? PathRegex(pattern))?.literalPrefix
    }
}
