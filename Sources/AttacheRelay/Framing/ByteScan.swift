/// Byte searches sixteen bytes at a time (SIMD: SSE2 on x86-64, NEON on arm64), for the parsers'
/// long runs: looking for the end of a line, skipping over a field name or value.
///
/// The scans are `@_transparent`: with `@inline(__always)` the compiler left them out of line
/// once they held vector code, and a call per run cost more than the vectors saved (measured:
/// 23,834 against 23,513 instructions per proxied request).
enum ByteScan {
    /// The position in the word (little-endian: byte 0 is the first in memory) of the lowest
    /// flag of a non-zero `flags`.
    @inline(__always)
    private static func firstFlagged(_ flags: UInt64) -> Int {
        flags.trailingZeroBitCount &>> 3
    }

    /// Sixteen copies of `byte`.
    @_transparent
    private static func splat(_ byte: UInt8) -> SIMD16<UInt8> {
        SIMD16(repeating: byte)
    }

    /// The index of the first `byte` at or after `start`, or `nil`.
    @_transparent
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let vector = splat(byte)
        let index = firstStop(in: bytes, from: start, vectors: { $0 .== vector }, bytes: { $0 == byte })
        return index < bytes.count ? index : nil
    }

    /// The index of the first byte at or after `start` that is not an ASCII letter, digit or
    /// "-", or `bytes.count`: the run most field names are made of. The parser checks from
    /// there byte by byte (other token characters, the colon).
    ///
    /// A loop of its own, not `firstStop`: the compiler left this vector closure out of line, a
    /// call per field name (measured with the field loop as it is: 21,725 against 21,830
    /// instructions per proxied request).
    @_transparent
    static func endOfNameRun(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        let count = bytes.count
        while index &+ 16 <= count {
            let vector = bytes.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            // Whole-vector operands only: the stdlib's vector-with-scalar operators compile to a
            // loop over the lanes here.
            let letters = (vector | splat(0x20)) &- splat(0x61) .<= splat(25)
            let digits = vector &- splat(0x30) .<= splat(9)
            let marked = .!(letters .| digits .| (vector .== splat(0x2D)))
            let halves = unsafeBitCast(
                SIMD16<UInt8>(repeating: 0).replacing(with: 0xFF, where: marked), to: SIMD2<UInt64>.self)
            if halves[0] != 0 { return index &+ firstFlagged(halves[0]) }
            if halves[1] != 0 { return index &+ 8 &+ firstFlagged(halves[1]) }
            index &+= 16
        }
        while index < count {
            let byte = bytes[index]
            let folded = byte | 0x20
            if !((folded >= 0x61 && folded <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D) { return index }
            index &+= 1
        }
        return count
    }

    /// The index of the first byte at or after `start` that is a control character (tab
    /// included) or DEL, or `bytes.count`: where a run of plain field-value bytes ends.
    @_transparent
    static func endOfPlainRun(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        firstStop(
            in: bytes, from: start,
            vectors: { $0 .< splat(0x20) .| $0 .== splat(0x7F) },
            bytes: { $0 < 0x20 || $0 == 0x7F })
    }

    /// The index of the first byte at or after `start` that is not VCHAR (0x21–0x7E), or
    /// `bytes.count`: where a request target ends.
    @_transparent
    static func endOfTargetRun(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        firstStop(
            in: bytes, from: start,
            vectors: { $0 .<= splat(0x20) .| $0 .>= splat(0x7F) },
            bytes: { $0 <= 0x20 || $0 >= 0x7F })
    }

    /// The scan every search above is: sixteen bytes at a time while sixteen remain, `vectors`
    /// marking the bytes to stop at, then the tail byte by byte with `bytes` (an eight-byte step
    /// between them cost more than it saved: 23,614 against 23,513). The index of the first stop,
    /// or `bytes.count`.
    @_transparent
    private static func firstStop(
        in buffer: UnsafeRawBufferPointer, from start: Int, vectors: (SIMD16<UInt8>) -> SIMDMask<SIMD16<Int8>>,
        bytes stops: (UInt8) -> Bool
    ) -> Int {
        var index = start
        let count = buffer.count
        while index + 16 <= count {
            let marked = vectors(buffer.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
            // Each marked byte as 0xFF, read as two words (little-endian: the first byte is the
            // lowest), as Swift's SIMD types have no movemask.
            let halves = unsafeBitCast(
                SIMD16<UInt8>(repeating: 0).replacing(with: 0xFF, where: marked), to: SIMD2<UInt64>.self)
            if halves[0] != 0 { return index + firstFlagged(halves[0]) }
            if halves[1] != 0 { return index + 8 + firstFlagged(halves[1]) }
            index += 16
        }
        while index < count {
            if stops(buffer[index]) { return index }
            index += 1
        }
        return count
    }
}
