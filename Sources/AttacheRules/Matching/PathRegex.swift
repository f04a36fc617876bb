/// A `{regex: …}` path condition or header condition: Swift's regex engine, searched (not
/// anchored) like nginx's `~` locations, over the normalized path.
///
/// `@unchecked Sendable`: `Regex<AnyRegexOutput>` is not marked `Sendable` only because its output
/// type is not; the value is immutable, and `init` runs one match so the engine's lazily built
/// program exists before the value is shared between threads.
public struct PathRegex: @unchecked Sendable {
    public struct CompileError: Error {
        public var message: String
    }

    public let pattern: String
    public let captureNames: [String]
    private let regex: Regex<AnyRegexOutput>

    public init(_ pattern: String) throws(CompileError) {
        do {
            regex = try Regex(pattern)
        } catch {
            throw CompileError(message: "\(error)")
        }
        _ = try? regex.firstMatch(in: "")
        self.pattern = pattern
        captureNames = PathRegex.namedGroups(in: pattern)
    }

    /// Searches `bytes` (decoded as UTF-8); named groups land in `captures` in `captureNames` order.
    public func matches(_ bytes: UnsafeRawBufferPointer, captures: inout [Range<Int>]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let match = try? regex.firstMatch(in: text) else { return false }
        for name in captureNames {
            if let range = match.output[name]?.range {
                let lower = text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound)
                let upper = text.utf8.distance(from: text.utf8.startIndex, to: range.upperBound)
                captures.append(lower..<upper)
            } else {
                captures.append(0..<0)
            }
        }
        return true
    }

    public func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return (try? regex.firstMatch(in: text)) != nil
    }

    /// `(?<name>…)` and `(?P<name>…)` group names, in order of appearance.
    static func namedGroups(in pattern: String) -> [String] {
        let scalars = Array(pattern.unicodeScalars)
        var names: [String] = []
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\\" {
                index += 2
                continue
            }
            if scalars[index] == "(", index + 2 < scalars.count, scalars[index + 1] == "?" {
                var start = index + 2
                if scalars[start] == "P", start + 1 < scalars.count { start += 1 }
                if scalars[start] == "<", start + 1 < scalars.count, scalars[start + 1] != "=",
                    scalars[start + 1] != "!"
                {
                    var end = start + 1
                    while end < scalars.count, scalars[end] != ">" { end += 1 }
                    names.append(String(String.UnicodeScalarView(scalars[(start + 1)..<end])))
                    index = end
                }
            }
            index += 1
        }
        return names
    }
}
