/// A set of bytes (256 bits): what one step of a regex can consume.
struct ByteSet: Sendable, Hashable {
    private var words = SIMD4<UInt64>()

    init() {}

    init(_ byte: UInt8) {
        insert(byte)
    }

    static let all: ByteSet = {
        var set = ByteSet()
        set.insert(0...255)
        return set
    }()

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        (words[Int(byte >> 6)] >> UInt64(byte & 63)) & 1 == 1
    }

    mutating func insert(_ byte: UInt8) {
        words[Int(byte >> 6)] |= 1 << UInt64(byte & 63)
    }

    mutating func insert(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    mutating func formUnion(_ other: ByteSet) {
        words |= other.words
    }

    func inverted() -> ByteSet {
        var set = ByteSet()
        set.words = ~words
        return set
    }

    /// Adds the other case of every ASCII letter in the set.
    func caseFolded() -> ByteSet {
        var set = self
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") where contains(byte) { set.insert(byte | 0x20) }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") where contains(byte) { set.insert(byte & ~0x20) }
        return set
    }

    /// The only member, when there is exactly one.
    var singleByte: UInt8? {
        var found: UInt8? = nil
        for word in 0..<4 where words[word] != 0 {
            guard found == nil, words[word].nonzeroBitCount == 1 else { return nil }
            found = UInt8(word * 64 + words[word].trailingZeroBitCount)
        }
        return found
    }

    static let digits: ByteSet = {
        var set = ByteSet()
        set.insert(UInt8(ascii: "0")...UInt8(ascii: "9"))
        return set
    }()

    static let word: ByteSet = {
        var set = digits
        set.insert(UInt8(ascii: "a")...UInt8(ascii: "z"))
        set.insert(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        set.insert(UInt8(ascii: "_"))
        return set
    }()

    static let space: ByteSet = {
        var set = ByteSet()
        for byte in [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D] as [UInt8] { set.insert(byte) }
        return set
    }()
}
