/// Byte searches eight bytes at a time (SWAR: one 64-bit word holds eight bytes), for the
/// parsers' long runs: looking for the end of a line, skipping over a field value.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte of `word` is zero (exact as a yes/no answer).
    @inline(__always)
    private static func hasZeroByte(_ word: UInt64) -> Bool {
        (word &- ones) & ~word & highBits != 0
    }

    /// Whether any byte of `word` is below `limit` (at most 128; exact as a yes/no answer).
    @inline(__always)
    private static func hasByte(in word: UInt64, below limit: UInt8) -> Bool {
        (word &- ones &* UInt64(limit)) & ~word & highBits != 0
    }

    /// `word` with its ASCII capitals (and only those) made lower case.
    @inline(__always)
    static func lowercased(_ word: UInt64) -> UInt64 {
        let low = word & ~highBits
        // High bit set where a byte is at least "A", and where it is beyond "Z".
        let atLeastA = low &+ ones &* UInt64(0x80 - 0x41)
        let beyondZ = low &+ ones &* UInt64(0x80 - 0x5B)
        let capitals = (atLeastA ^ beyondZ) & ~word & highBits
        return word | (capitals >> 2)
    }

    /// The index of the first `byte` at or after `start`, or `nil`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        let count = bytes.count
        let pattern = ones &* UInt64(byte)
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if hasZeroByte(word ^ pattern) { break }
            index += 8
        }
        while index < count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// The index of the first byte at or after `start` that is a control character (tab
    /// included) or DEL, or `bytes.count`: where a run of plain field-value bytes ends.
    @inline(__always)
    static func endOfPlainRun(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        let count = bytes.count
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if hasByte(in: word, below: 0x20) || hasZeroByte(word ^ (ones &* 0x7F)) { break }
            index += 8
        }
        while index < count {
            let byte = bytes[index]
            if byte < 0x20 || byte == 0x7F { return index }
            index += 1
        }
        return count
    }
}
