import NIOCore

/// Appends a head's pieces into memory a `ByteBuffer` lends out (`HeadWriter`), one `memcpy`
/// per piece: the `ByteBuffer` write calls it replaces each checked uniqueness and capacity and
/// made a slice, about 150 instructions apiece, eight to ten of them per head.
///
/// Every append is checked against the end of the memory, so a wrong size bound stops the
/// process rather than writing past it; `HeadWriter` sizes it from the head it copies.
struct HeadBytes {
    private let start: UnsafeMutableRawPointer
    private let capacity: Int
    private(set) var count = 0

    init(_ memory: UnsafeMutableRawBufferPointer) {
        start = memory.baseAddress!
        capacity = memory.count
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(count + bytes.count <= capacity, "head larger than its bound")
        (start + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func append(_ literal: StaticString) {
        append(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Labelled: unlabelled, a string literal would pick this over the `StaticString` overload.
    mutating func append(utf8 string: String) {
        var string = string
        string.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Runs `body` with a `HeadBytes` over at least `bound` writable bytes of `buffer`, then
    /// moves the writer index past what it appended.
    @inline(__always)
    static func write(into buffer: inout ByteBuffer, bound: Int, _ body: (inout HeadBytes) -> Void) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { memory in
            var head = HeadBytes(memory)
            body(&head)
            return head.count
        }
    }
}
