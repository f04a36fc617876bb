/// Byte searches eight bytes at a time (SWAR: one 64-bit word holds eight bytes), for the
/// parsers' long runs: looking for the end of a line, skipping over a field value.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` that is zero. Borrows can flag bytes above a zero
    /// byte too, never below one: the lowest flag is always the first zero byte.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }

    /// The same for bytes below `limit` (at most 128): the lowest flag is the first such byte.
    @inline(__always)
    private static func bytes(in word: UInt64, below limit: UInt8) -> UInt64 {
        (word &- ones &* UInt64(limit)) & ~word & highBits
    }

    /// The position in the word (little-endian: byte 0 is the first in memory) of the lowest
    /// flag of a non-zero `flags`.
    @inline(__always)
    private static func firstFlagged(_ flags: UInt64) -> Int {
        flags.trailingZeroBitCount &>> 3
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
        let pattern = ones &* UInt64(byte)
        let index = firstStop(in: bytes, from: start, words: { zeroBytes($0 ^ pattern) }, bytes: { $0 == byte })
        return index < bytes.count ? index : nil
    }

    /// The index of the first byte at or after `start` that is not an ASCII letter, digit or
    /// "-", or `bytes.count`: the run most field names are made of. The parser checks from
    /// there byte by byte (other token characters, the colon).
    @inline(__always)
    static func endOfNameRun(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        firstStop(
            in: bytes, from: start,
            words: { word in
                // Every byte below 0x80 once the high bits are off, so the sums below never
                // carry into the next byte: each byte's test is exact.
                let low = word & ~highBits
                let folded = low | (ones &* 0x20)
                let letters = (folded &+ ones &* (0x80 - 0x61)) & ~(folded &+ ones &* (0x80 - 0x7B))
                let digits = (low &+ ones &* (0x80 - 0x30)) & ~(low &+ ones &* (0x80 - 0x3A))
                let notDash = low ^ (ones &* 0x2D)
                let dashes = ~((notDash &+ ones &* 0x7F) | notDash)
                return (~(letters | digits | dashes) | word) & highBits
            },
            bytes: { byte in
                let folded = byte | 0x20
                return !((folded >= 0x61 && folded <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D)
            })
    }

    /// The index of the first byte at or after `start` that is a control character (tab
    /// included) or DEL, or `bytes.count`: where a run of plain field-value bytes ends.
    @inline(__always)
    static func endOfPlainRun(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        firstStop(
            in: bytes, from: start,
            words: { self.bytes(in: $0, below: 0x20) | zeroBytes($0 ^ (ones &* 0x7F)) },
            bytes: { $0 < 0x20 || $0 == 0x7F })
    }

    /// The scan every search above is: whole words while eight bytes remain, `words` giving the
    /// high bit of each byte to stop at (the lowest flag must be the first such byte), then the
    /// tail byte by byte with `bytes`. The index of the first stop, or `bytes.count`.
    @inline(__always)
    private static func firstStop(
        in buffer: UnsafeRawBufferPointer, from start: Int, words: (UInt64) -> UInt64, bytes stops: (UInt8) -> Bool
    ) -> Int {
        var index = start
        let count = buffer.count
        while index + 8 <= count {
            let flags = words(buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            if flags != 0 { return index + firstFlagged(flags) }
            index += 8
        }
        while index < count {
            if stops(buffer[index]) { return index }
            index += 1
        }
        return count
    }
}
