/// A set of response status codes (100–599): `404`, `[404, 410]`, `"4xx"`, `"500-599"`.
public struct StatusSet: Sendable, Hashable, CustomStringConvertible {
    public static let range = 100...599

    /// Bit `code - 100` is set for each member.
    private(set) var bits = StatusBits()
    /// The forms as written, for messages.
    public private(set) var terms: [String] = []

    public init() {}

    public static let all: StatusSet = {
        var set = StatusSet()
        set.insert(range, term: "any")
        return set
    }()

    public static func == (lhs: StatusSet, rhs: StatusSet) -> Bool {
        lhs.bits == rhs.bits
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bits)
    }

    public var description: String { terms.joined(separator: ", ") }

    @inline(__always)
    public func contains(_ status: Int) -> Bool {
        bits.contains(status)
    }

    public var isEmpty: Bool { self == StatusSet() }

    /// Whether every member of `other` is in `self`.
    public func isSuperset(of other: StatusSet) -> Bool {
        bits.isSuperset(of: other.bits)
    }

    /// Status classes (1 for 1xx … 5) with at least one member, as a bit mask (bit n for class n).
    public var classMask: UInt8 {
        var mask: UInt8 = 0
        for klass in 1...5 where ((klass * 100)...(klass * 100 + 99)).contains(where: contains) {
            mask |= 1 << klass
        }
        return mask
    }

    mutating func insert(_ codes: ClosedRange<Int>, term: String) {
        for code in codes { bits.insert(code) }
        terms.append(term)
    }

    /// Parses one term, or says why it is not a status, it is not a status, a class or a range.
    static func parseTerm(_ text: String) -> Result<ClosedRange<Int>, TermError> {
        let term = text.trimmingCharacters(in: " ")
        let bytes = Array(term.utf8)
        if bytes.count == 3, let first = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            bytes[1] | 0x20 == UInt8(ascii: "x"), bytes[2] | 0x20 == UInt8(ascii: "x")
        {
            let klass = Int(first - UInt8(ascii: "0"))
            guard (1...5).contains(klass) else {
                return .failure(TermError("'\(term)' is not a status class; classes run from 1xx to 5xx"))
            }
            return .success((klass * 100)...(klass * 100 + 99))
        }
        if let dash = term.firstIndex(of: "-"), dash != term.startIndex {
            let low = term[..<dash].trimmingCharacters(in: " ")
            let high = term[term.index(after: dash)...].trimmingCharacters(in: " ")
            guard let lower = Int(low), let upper = Int(high) else {
                return .failure(TermError("'\(term)' is not a status range like 500-599"))
            }
            for code in [lower, upper] where !range.contains(code) {
                return .failure(TermError("\(code) is not a status code (they run from 100 to 599)"))
            }
            guard lower <= upper else {
                return .failure(TermError("range '\(term)' runs backwards; write \(upper)-\(lower)"))
            }
            return .success(lower...upper)
        }
        guard let code = Int(term) else {
            return .failure(TermError("'\(term)' is not a status: use 404, \"4xx\" or \"500-599\""))
        }
        guard range.contains(code) else {
            return .failure(TermError("\(code) is not a status code (they run from 100 to 599)"))
        }
        return .success(code...code)
    }

    struct TermError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}

extension StringProtocol {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}

/// The members of a `StatusSet` as plain bits, with no references: cheap to copy on the data path.
struct StatusBits: Sendable, Hashable {
    private var words = SIMD8<UInt64>()

    static let all: StatusBits = {
        var bits = StatusBits()
        for code in StatusSet.range { bits.insert(code) }
        return bits
    }()

    @inline(__always)
    func contains(_ status: Int) -> Bool {
        guard StatusSet.range.contains(status) else { return false }
        let bit = status - 100
        return (words[bit >> 6] >> UInt64(bit & 63)) & 1 == 1
    }

    mutating func insert(_ code: Int) {
        let bit = code - 100
        words[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    func isSuperset(of other: StatusBits) -> Bool {
        words & other.words == other.words
    }

    mutating func formUnion(_ other: StatusBits) {
        words |= other.words
    }
}
