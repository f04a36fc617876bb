/// Recognizes `Content-Length` and `Transfer-Encoding` (case-insensitively) while a field name
/// arrives byte by byte: the head grammar refuses repeated or conflicting framing fields with it,
/// and the chunked decoder refuses them among trailers.
struct FramingFieldName {
    // StaticString: constant bytes, no lazy initialization or reference counting per byte.
    private static let contentLength: StaticString = "content-length"
    private static let transferEncoding: StaticString = "transfer-encoding"

    /// Bytes of each name matched so far; -1 once the field name differs.
    private var contentLengthMatched = 0
    private var transferEncodingMatched = 0

    init() {}

    /// The next byte of the field name.
    @inline(__always)
    mutating func feed(_ byte: UInt8) {
        let lower = lowercased(byte)
        Self.advance(&contentLengthMatched, Self.contentLength, lower)
        Self.advance(&transferEncodingMatched, Self.transferEncoding, lower)
    }

    /// The whole name, fed so far, is Content-Length.
    var isContentLength: Bool { contentLengthMatched == Self.contentLength.utf8CodeUnitCount }
    var isTransferEncoding: Bool { transferEncodingMatched == Self.transferEncoding.utf8CodeUnitCount }

    @inline(__always)
    private static func advance(_ matched: inout Int, _ name: StaticString, _ lower: UInt8) {
        guard matched >= 0 else { return }
        matched = matched < name.utf8CodeUnitCount && lower == name.utf8Start[matched] ? matched + 1 : -1
    }
}
