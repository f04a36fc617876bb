/// Parses attache's regular-expression syntax: the common Perl / PCRE / Swift subset that can be
/// matched in linear time (the RE2 family), over bytes.
///
/// Supported: literals, `.`, `[…]` classes with ranges, negation and `\d \w \s` inside, `\d \D
/// \w \W \s \S`, `\b \B`, `^ $ \A \z`, groups `(…)`, `(?:…)`, `(?<name>…)`, `(?P<name>…)`,
/// alternation `|`, quantifiers `* + ? {n} {n,} {n,m}` and their lazy forms, and the flags
/// `(?i)`, `(?s)`, `(?i:…)`. Backreferences and lookaround are refused: they need backtracking,
/// which a client could turn against the proxy with a crafted path.
struct RegexSyntax {
    indirect enum Node: Sendable {
        case empty
        case bytes(ByteSet)
        case concatenation([Node])
        case alternation([Node])
        case repetition(Node, minimum: Int, maximum: Int?, greedy: Bool)
        /// A group; `capture` is its 1-based capture index, `nil` for non-capturing groups.
        case group(Node, capture: Int?)
        case assertion(Assertion)
    }

    enum Assertion: Sendable {
        case start
        case end
        case wordBoundary
        case notWordBoundary
    }

    struct ParseError: Error {
        var message: String
        /// Unicode-scalar offset in the pattern.
        var offset: Int
    }

    private struct Flags {
        var caseInsensitive = false
        var dotMatchesNewline = false
    }

    static let maximumRepetition = 1000

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private(set) var captureNames: [String?] = []

    private init(_ pattern: String) {
        scalars = Array(pattern.unicodeScalars)
    }

    /// The syntax tree and the capture names (`nil` for unnamed groups), in group order.
    static func parse(_ pattern: String) throws(ParseError) -> (node: Node, captureNames: [String?]) {
        var parser = RegexSyntax(pattern)
        var flags = Flags()
        let node = try parser.parseAlternation(&flags, depth: 0)
        if parser.position < parser.scalars.count {
            throw ParseError(message: "unmatched ')'", offset: parser.position)
        }
        return (node, parser.captureNames)
    }

    private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func parseAlternation(_ flags: inout Flags, depth: Int) throws(ParseError) -> Node {
        guard depth < 100 else { throw ParseError(message: "groups nested too deeply", offset: position) }
        var branches = [try parseConcatenation(&flags, depth: depth)]
        while peek == "|" {
            position += 1
            branches.append(try parseConcatenation(&flags, depth: depth))
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcatenation(_ flags: inout Flags, depth: Int) throws(ParseError) -> Node {
        var items: [Node] = []
        while let scalar = peek, scalar != "|", scalar != ")" {
            let start = position
            guard var atom = try parseAtom(&flags, depth: depth) else { continue }
            if let (minimum, maximum) = try parseQuantifier() {
                if case .assertion = atom {
                    throw ParseError(message: "an anchor cannot be repeated", offset: start)
                }
                if case .empty = atom {
                    throw ParseError(message: "nothing to repeat", offset: start)
                }
                var greedy = true
                if peek == "?" {
                    greedy = false
                    position += 1
                }
                if peek == "+" {
                    throw ParseError(message: "possessive quantifiers are not supported", offset: position)
                }
                atom = .repetition(atom, minimum: minimum, maximum: maximum, greedy: greedy)
            }
            items.append(atom)
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concatenation(items)
        }
    }

    /// `nil` for constructs that only change flags, like `(?i)`.
    private mutating func parseAtom(_ flags: inout Flags, depth: Int) throws(ParseError) -> Node? {
        let start = position
        let scalar = scalars[position]
        position += 1
        switch scalar {
        case "*", "+", "?":
            throw ParseError(message: "'\(scalar)' has nothing to repeat", offset: start)
        case "{":
            if quantifierFollows(from: start) {
                throw ParseError(message: "'{' has nothing to repeat", offset: start)
            }
            return literal(scalar, flags)
        case ".":
            return .bytes(flags.dotMatchesNewline ? .all : ByteSet(UInt8(ascii: "\n")).inverted())
        case "^":
            return .assertion(.start)
        case "$":
            return .assertion(.end)
        case "[":
            return .bytes(try parseClass(flags, start: start))
        case "\\":
            return try parseEscape(flags, start: start)
        case "(":
            return try parseGroup(&flags, start: start, depth: depth)
        default:
            return literal(scalar, flags)
        }
    }

    private func literal(_ scalar: Unicode.Scalar, _ flags: Flags) -> Node {
        let bytes = Array(String(scalar).utf8)
        let nodes = bytes.map { byte -> Node in
            let set = ByteSet(byte)
            return .bytes(flags.caseInsensitive ? set.caseFolded() : set)
        }
        return nodes.count == 1 ? nodes[0] : .group(.concatenation(nodes), capture: nil)
    }

    private mutating func parseGroup(_ flags: inout Flags, start: Int, depth: Int) throws(ParseError) -> Node? {
        var capture: Int? = nil
        var innerFlags = flags
        if peek == "?" {
            position += 1
            guard let kind = peek else { throw ParseError(message: "missing ')'", offset: start) }
            switch kind {
            case ":":
                position += 1
            case "<" where position + 1 < scalars.count && (scalars[position + 1] == "=" || scalars[position + 1] == "!"),
                "=", "!":
                throw ParseError(
                    message: "lookaround is not supported (attache's regexes run in linear time, like RE2)",
                    offset: start)
            case "<", "P":
                if kind == "P" {
                    position += 1
                    guard peek == "<" else { throw ParseError(message: "expected '<' after '(?P'", offset: position) }
                }
                position += 1
                let nameStart = position
                while let scalar = peek, scalar != ">" { position += 1 }
                guard peek == ">" else { throw ParseError(message: "unterminated group name", offset: nameStart) }
                let name = String(String.UnicodeScalarView(scalars[nameStart..<position]))
                position += 1
                guard PathPattern.isCaptureName(name) else {
                    throw ParseError(message: "'\(name)' is not a valid group name", offset: nameStart)
                }
                guard !captureNames.contains(name) else {
                    throw ParseError(message: "group name '\(name)' is used twice", offset: nameStart)
                }
                captureNames.append(name)
                capture = captureNames.count
            default:
                // Flags: (?i) (?s) (?is) (?-i) (?i:...)
                var enable = true
                var newFlags = flags
                while let scalar = peek, scalar != ")" && scalar != ":" {
                    switch scalar {
                    case "i": newFlags.caseInsensitive = enable
                    case "s": newFlags.dotMatchesNewline = enable
                    case "-": enable = false
                    default:
                        throw ParseError(message: "unsupported group or flag '(?\(scalar)'", offset: start)
                    }
                    position += 1
                }
                guard let end = peek else { throw ParseError(message: "missing ')'", offset: start) }
                position += 1
                if end == ")" {
                    flags = newFlags
                    return nil
                }
                innerFlags = newFlags
            }
        } else {
            captureNames.append(nil)
            capture = captureNames.count
        }
        let inner = try parseAlternation(&innerFlags, depth: depth + 1)
        guard peek == ")" else { throw ParseError(message: "missing ')'", offset: start) }
        position += 1
        return .group(inner, capture: capture)
    }

    private mutating func parseEscape(_ flags: Flags, start: Int) throws(ParseError) -> Node {
        guard let scalar = peek else { throw ParseError(message: "trailing '\\'", offset: start) }
        position += 1
        switch scalar {
        case "A": return .assertion(.start)
        case "z": return .assertion(.end)
        case "b": return .assertion(.wordBoundary)
        case "B": return .assertion(.notWordBoundary)
        case "1"..."9":
            throw ParseError(
                message: "backreferences are not supported (attache's regexes run in linear time, like RE2)",
                offset: start)
        default:
            let set = try escapeSet(scalar, start: start)
            return .bytes(flags.caseInsensitive ? set.caseFolded() : set)
        }
    }

    /// The byte set of an escape that stands for characters (`\d`, `\.`, `\x41`, `\n`, …).
    private mutating func escapeSet(_ scalar: Unicode.Scalar, start: Int) throws(ParseError) -> ByteSet {
        switch scalar {
        case "d": return .digits
        case "D": return ByteSet.digits.inverted()
        case "w": return .word
        case "W": return ByteSet.word.inverted()
        case "s": return .space
        case "S": return ByteSet.space.inverted()
        case "n": return ByteSet(0x0A)
        case "r": return ByteSet(0x0D)
        case "t": return ByteSet(0x09)
        case "f": return ByteSet(0x0C)
        case "v": return ByteSet(0x0B)
        case "0": return ByteSet(0x00)
        case "x":
            guard position + 2 <= scalars.count,
                let value = UInt8(String(String.UnicodeScalarView(scalars[position..<(position + 2)])), radix: 16)
            else { throw ParseError(message: "'\\x' needs two hex digits", offset: start) }
            position += 2
            return ByteSet(value)
        default:
            guard scalar.isASCII, !scalar.properties.isAlphabetic, !("0"..."9").contains(scalar) else {
                throw ParseError(message: "unknown escape '\\\(scalar)'", offset: start)
            }
            return ByteSet(UInt8(scalar.value))
        }
    }

    private mutating func parseClass(_ flags: Flags, start: Int) throws(ParseError) -> ByteSet {
        var set = ByteSet()
        var negated = false
        if peek == "^" {
            negated = true
            position += 1
        }
        var first = true
        while true {
            guard let scalar = peek else { throw ParseError(message: "unterminated '['", offset: start) }
            if scalar == "]" && !first { break }
            first = false
            let itemStart = position
            if scalar == "[", position + 1 < scalars.count, scalars[position + 1] == ":" {
                throw ParseError(message: "POSIX classes like [:alpha:] are not supported; use ranges", offset: position)
            }
            let low = try classMember(start: itemStart)
            if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                position += 1
                let high = try classMember(start: position)
                guard case .byte(let lowByte) = low, case .byte(let highByte) = high else {
                    throw ParseError(message: "a range needs single characters at both ends", offset: itemStart)
                }
                guard lowByte <= highByte else {
                    throw ParseError(message: "range out of order in character class", offset: itemStart)
                }
                set.insert(lowByte...highByte)
            } else {
                switch low {
                case .byte(let byte): set.insert(byte)
                case .set(let members): set.formUnion(members)
                }
            }
        }
        position += 1
        if flags.caseInsensitive { set = set.caseFolded() }
        return negated ? set.inverted() : set
    }

    private enum ClassMember {
        case byte(UInt8)
        case set(ByteSet)
    }

    private mutating func classMember(start: Int) throws(ParseError) -> ClassMember {
        guard let scalar = peek else { throw ParseError(message: "unterminated '['", offset: start) }
        position += 1
        if scalar == "\\" {
            guard let escaped = peek else { throw ParseError(message: "trailing '\\'", offset: start) }
            position += 1
            let set = try escapeSet(escaped, start: start)
            if let single = set.singleByte { return .byte(single) }
            return .set(set)
        }
        let bytes = Array(String(scalar).utf8)
        guard bytes.count == 1 else {
            throw ParseError(
                message: "non-ASCII characters in a class are not supported (matching is on bytes); use a group",
                offset: start)
        }
        return .byte(bytes[0])
    }

    private func quantifierFollows(from index: Int) -> Bool {
        var probe = RegexSyntax(String(String.UnicodeScalarView(scalars[index...])))
        return (try? probe.parseQuantifier()) != nil
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`; `nil` when none follows (a `{` that does not start
    /// a valid count is a literal, as in PCRE).
    private mutating func parseQuantifier() throws(ParseError) -> (Int, Int?)? {
        guard let scalar = peek else { return nil }
        switch scalar {
        case "*":
            position += 1
            return (0, nil)
        case "+":
            position += 1
            return (1, nil)
        case "?":
            position += 1
            return (0, 1)
        case "{":
            var index = position + 1
            func number() -> Int? {
                var value: Int? = nil
                while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                    value = (value ?? 0) * 10 + Int(scalars[index].value - 48)
                    if value! > 100_000 { value = 100_000 }
                    index += 1
                }
                return value
            }
            guard let minimum = number() else { return nil }
            var maximum: Int? = minimum
            if index < scalars.count, scalars[index] == "," {
                index += 1
                maximum = number()
            }
            guard index < scalars.count, scalars[index] == "}" else { return nil }
            let start = position
            position = index + 1
            if let maximum, maximum < minimum {
                throw ParseError(message: "repetition range out of order", offset: start)
            }
            if minimum > Self.maximumRepetition || (maximum ?? 0) > Self.maximumRepetition {
                throw ParseError(message: "repetition counts are limited to \(Self.maximumRepetition)", offset: start)
            }
            return (minimum, maximum)
        default:
            return nil
        }
    }
}
