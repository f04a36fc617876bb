/// One path condition: a glob (`/api/*/items/{id}/**`), a raw prefix, or a regular expression.
///
/// Paths are matched in their normal form (`PathNormalizer`); patterns are normalized the same
/// way when compiled, and non-ASCII characters in them are percent-encoded as clients send them.
public struct PathPattern: Sendable {
    public enum Element: Sendable, Hashable {
        /// One segment, byte for byte.
        case literal([UInt8])
        /// Exactly one non-empty segment, optionally captured as `path.NAME`.
        case one(capture: String?)
        /// Any number of segments, none included.
        case many
    }

    public enum Kind: Sendable {
        case glob([Element])
        /// The normalized path starts with these bytes (`{prefix: /api}` matches `/apis` too).
        case prefix([UInt8])
        case regex(PathRegex)
    }

    public let kind: Kind
    /// The pattern as written, for messages and `explain`.
    public let text: String

    /// Names this pattern captures, in order.
    public var captureNames: [String] {
        switch kind {
        case .glob(let elements):
            return elements.compactMap {
                if case .one(let capture?) = $0 { return capture }
                return nil
            }
        case .prefix: return []
        case .regex(let regex): return regex.captureNames
        }
    }

    public static func isCaptureName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic && first.isASCII
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    // MARK: Compiling

    struct ParseError: Error {
        var message: String
        /// Unicode-scalar offset in the pattern text.
        var offset: Int
    }

    /// Parses a glob pattern such as `/users/{id}/**`.
    static func glob(_ text: String) throws(ParseError) -> PathPattern {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "/") else {
            throw ParseError(message: "a path pattern starts with '/'", offset: 0)
        }
        var elements: [Element] = []
        var captures: [String] = []
        var start = 1
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
            let segment = bytes[start..<end]
            if segment.elementsEqual("**".utf8) {
                if elements.last != .many { elements.append(.many) }
            } else if segment.elementsEqual("*".utf8) {
                elements.append(.one(capture: nil))
            } else if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
                throw ParseError(
                    message: "'\(String(decoding: segment, as: UTF8.self))' segments never reach rules (paths are normalized first)",
                    offset: scalarOffset(bytes, start))
            } else if segment.count >= 2, segment.first == UInt8(ascii: "{"), segment.last == UInt8(ascii: "}") {
                let name = String(decoding: segment.dropFirst().dropLast(), as: UTF8.self)
                guard isCaptureName(name) else {
                    throw ParseError(
                        message: "'\(name)' is not a capture name (letters, digits and '_', not starting with a digit)",
                        offset: scalarOffset(bytes, start + 1))
                }
                guard !captures.contains(name) else {
                    throw ParseError(
                        message: "capture '\(name)' appears twice in this pattern", offset: scalarOffset(bytes, start))
                }
                captures.append(name)
                elements.append(.one(capture: name))
            } else {
                elements.append(.literal(try literalSegment(bytes, start..<end)))
            }
            start = end + 1
        }
        return PathPattern(kind: .glob(elements), text: text)
    }

    static func prefix(_ text: String) throws(ParseError) -> PathPattern {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "/") else {
            throw ParseError(message: "a path prefix starts with '/'", offset: 0)
        }
        var normalized: [UInt8] = []
        var start = 0
        while start < bytes.count {
            var end = start + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
            normalized.append(UInt8(ascii: "/"))
            normalized.append(contentsOf: try literalSegment(bytes, (start + 1)..<end, allowGlob: true))
            start = end
        }
        return PathPattern(kind: .prefix(normalized), text: text)
    }

    static func regex(_ text: String) throws(PathRegex.CompileError) -> PathPattern {
        PathPattern(kind: .regex(try PathRegex(text)), text: text)
    }

    /// A literal segment in normal form: escapes normalized, non-ASCII percent-encoded, and
    /// characters that cannot appear in a request path rejected.
    private static func literalSegment(
        _ bytes: [UInt8], _ range: Range<Int>, allowGlob: Bool = false
    ) throws(ParseError) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(range.count)
        var hasEscape = false
        for position in range {
            let byte = bytes[position]
            if byte >= 0x80 {
                // Clients send non-ASCII as percent-encoded UTF-8; so must the pattern.
                Escaping.appendURLEncoded(CollectionOfOne(byte), to: &raw)
                continue
            }
            if !allowGlob, byte == UInt8(ascii: "*") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") {
                throw ParseError(
                    message: "'\(Unicode.Scalar(byte))' must be a whole segment ('*', '**' or '{name}')",
                    offset: scalarOffset(bytes, position))
            }
            if byte == UInt8(ascii: "?") {
                throw ParseError(
                    message: "the query string is not part of the path; match it with request.query",
                    offset: scalarOffset(bytes, position))
            }
            guard pathCharacters.contains(byte) else {
                let shown = byte < 0x20 || byte == 0x7F ? "\\x\(String(byte, radix: 16))" : String(Unicode.Scalar(byte))
                throw ParseError(
                    message: "'\(shown)' cannot appear in a request path; percent-encode it",
                    offset: scalarOffset(bytes, position))
            }
            if byte == UInt8(ascii: "%") { hasEscape = true }
            raw.append(byte)
        }
        guard hasEscape else { return raw }
        var normalized: [UInt8] = []
        switch raw.withUnsafeBytes({ PathNormalizer.normalize($0, into: &normalized) }) {
        case .unchanged: return raw
        case .normalized: return normalized
        case .invalidPercentEncoding:
            throw ParseError(message: "'%' must be followed by two hex digits", offset: scalarOffset(bytes, range.lowerBound))
        }
    }

    /// RFC 3986 `pchar` plus `%` (escapes are checked separately) and `{ }` (allowed in prefixes).
    private static let pathCharacters: ByteSet = {
        var set = ByteSet()
        for byte in UInt8(0)..<0x80 where Escaping.isUnreserved(byte) { set.insert(byte) }
        for byte in "%!$&'()*+,;=:@{}".utf8 { set.insert(byte) }
        return set
    }()

    /// The Unicode-scalar offset of a byte offset in UTF-8 text (diagnostics count scalars).
    private static func scalarOffset(_ bytes: [UInt8], _ byteOffset: Int) -> Int {
        bytes[0..<byteOffset].reduce(0) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    // MARK: Matching

    /// Whether `path` (normalized, no query) matches; when it does, `captures` receives the
    /// captured byte ranges of `path` in `captureNames` order.
    public func matches(_ path: UnsafeRawBufferPointer, captures: inout [Range<Int>]) -> Bool {
        captures.removeAllKeepingCapacity()
        switch kind {
        case .prefix(let prefix):
            return path.starts(with: prefix)
        case .regex(let regex):
            return regex.matches(path, captures: &captures)
        case .glob(let elements):
            return PathPattern.matchGlob(elements, path, captures: &captures)
        }
    }

    public func matches(_ path: String) -> Bool {
        var captures: [Range<Int>] = []
        return Array(path.utf8).withUnsafeBytes { matches($0, captures: &captures) }
    }

    /// The byte ranges of each segment after the leading `/`; `nil` if the path has no `/`.
    static func segments(of path: UnsafeRawBufferPointer) -> [Range<Int>]? {
        guard path.first == UInt8(ascii: "/") else { return nil }
        var result: [Range<Int>] = []
        var start = 1
        while true {
            var end = start
            while end < path.count, path[end] != UInt8(ascii: "/") { end += 1 }
            result.append(start..<end)
            if end >= path.count { break }
            start = end + 1
        }
        return result
    }

    /// Glob matching in O(elements × segments): a table of which suffixes can still match,
    /// then one forward walk that takes `**` lazily and records captures.
    static func matchGlob(_ elements: [Element], _ path: UnsafeRawBufferPointer, captures: inout [Range<Int>]) -> Bool {
        guard let segments = segments(of: path) else { return false }
        let width = segments.count + 1
        // possible[i * width + j]: elements[i...] can match segments[j...].
        var possible = [Bool](repeating: false, count: (elements.count + 1) * width)
        possible[elements.count * width + segments.count] = true
        for i in stride(from: elements.count - 1, through: 0, by: -1) {
            for j in stride(from: segments.count, through: 0, by: -1) {
                let value: Bool
                switch elements[i] {
                case .many:
                    value = possible[(i + 1) * width + j] || (j < segments.count && possible[i * width + j + 1])
                case .one:
                    value = j < segments.count && !segments[j].isEmpty && possible[(i + 1) * width + j + 1]
                case .literal(let bytes):
                    value = j < segments.count && possible[(i + 1) * width + j + 1]
                        && UnsafeRawBufferPointer(rebasing: path[segments[j]]).elementsEqual(bytes)
                }
                possible[i * width + j] = value
            }
        }
        guard possible[0] else { return false }
        var i = 0
        var j = 0
        while i < elements.count {
            switch elements[i] {
            case .many:
                if possible[(i + 1) * width + j] { i += 1 } else { j += 1 }
            case .one(let capture):
                if capture != nil { captures.append(segments[j]) }
                i += 1
                j += 1
            case .literal:
                i += 1
                j += 1
            }
        }
        return true
    }
}
