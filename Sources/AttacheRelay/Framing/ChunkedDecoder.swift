import AttacheRules

/// Tracks a chunked body (RFC 9112 §7.1) as its bytes stream past: where each chunk's data is,
/// and where the message ends. attache forwards chunked bytes as they are; the decoder only has
/// to know the framing (and hand out the data ranges when a body must be re-framed).
///
/// Strict like llhttp: hex sizes without overflow, CRLF only, chunk extensions and trailers
/// bounded in size, no framing fields (Content-Length, Transfer-Encoding) among the trailers:
/// RFC 9110 §6.5.1 keeps framing out of them, and a recipient that merged them into the header
/// section would frame the message differently.
public struct ChunkedDecoder: Sendable {
    public enum Event: Equatable, Sendable {
        /// All input consumed; more is needed.
        case needMore
        /// Chunk data at these offsets of the input.
        case data(Range<Int>)
        /// The body ended; the message's last byte is just before this offset.
        case end(at: Int)
        case invalid(String)
    }

    private enum State: Sendable {
        case size
        /// `;name[=value]`: before the name, in it, at '=', in a token value, in a quoted value.
        case extensionNameStart
        case extensionName
        case extensionValueStart
        case extensionToken
        case extensionQuoted
        case extensionQuotedEscape
        case extensionAfterQuote
        case sizeLF
        case data(remaining: Int64)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerName
        case trailerValue
        case trailerLF
        case finalLF
        case done
        case failed
    }

    /// Chunk-line extension bytes allowed (beyond: invalid).
    public static let maximumExtensionBytes = 4096
    /// Trailer section bytes allowed.
    public static let maximumTrailerBytes = 64 * 1024

    private var state = State.size
    private var size: Int64 = 0
    private var sizeDigits = 0
    private var extensionBytes = 0
    private var trailerBytes = 0
    /// Whether the current trailer's name is a framing field.
    private var trailerName = FramingFieldName()

    public init() {}

    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes `input` from `offset`; returns the next event and the offset to continue from.
    /// Call repeatedly until `.needMore`, `.end` or `.invalid`.
    public mutating func next(_ input: UnsafeRawBufferPointer, from offset: Int) -> (event: Event, next: Int) {
        var index = offset
        let count = input.count
        while index < count {
            let byte = input[index]
            switch state {
            case .size:
                if let digit = hexValue(byte) {
                    guard sizeDigits < 15 else { return fail("chunk size too large") }
                    size = size << 4 | Int64(digit)
                    sizeDigits += 1
                } else if sizeDigits == 0 {
                    return fail("invalid chunk size")
                } else if byte == UInt8(ascii: ";") {
                    // No whitespace around the size: RFC 9112 tolerates BWS before ';', but
                    // parsers that disagree on it are how requests get smuggled (llhttp refuses).
                    state = .extensionNameStart
                } else if byte == UInt8(ascii: "\r") {
                    state = .sizeLF
                } else {
                    return fail("invalid chunk size")
                }
            case .extensionNameStart, .extensionName, .extensionValueStart, .extensionToken, .extensionQuoted, .extensionQuotedEscape,
                .extensionAfterQuote:
                if byte != UInt8(ascii: "\r") { extensionBytes += 1 }
                guard extensionBytes <= Self.maximumExtensionBytes else { return fail("chunk extension too long") }
                guard let next = Self.extensionStep(state, byte) else { return fail("invalid chunk extension") }
                state = next
            case .sizeLF:
                guard byte == UInt8(ascii: "\n") else { return fail("chunk size line without LF") }
                extensionBytes = 0
                sizeDigits = 0
                if size == 0 {
                    state = .trailerLineStart
                } else {
                    state = .data(remaining: size)
                    size = 0
                }
            case .data(let remaining):
                let available = Int64(count - index)
                let take = Int(min(remaining, available))
                let range = index..<(index + take)
                index += take
                state = remaining == Int64(take) ? .dataCR : .data(remaining: remaining - Int64(take))
                return (.data(range), index)
            case .dataCR:
                guard byte == UInt8(ascii: "\r") else { return fail("chunk data longer than its size") }
                state = .dataLF
            case .dataLF:
                guard byte == UInt8(ascii: "\n") else { return fail("chunk data without CRLF") }
                state = .size
            case .trailerLineStart:
                if byte == UInt8(ascii: "\r") {
                    state = .finalLF
                } else {
                    guard HTTPToken.isTokenCharacter(byte) else { return fail("invalid trailer field") }
                    state = .trailerName
                    trailerBytes += 1
                    trailerName = FramingFieldName()
                    trailerName.feed(byte)
                }
            case .trailerName:
                // A trailer line is a field: `name ":" value`; a line without the colon (say, the
                // next request) is an error, never taken for a trailer.
                trailerBytes += 1
                guard trailerBytes <= Self.maximumTrailerBytes else { return fail("trailer section too large") }
                if byte == UInt8(ascii: ":") {
                    if trailerName.isContentLength {
                        return fail("Content-Length in the trailer section")
                    }
                    if trailerName.isTransferEncoding {
                        return fail("Transfer-Encoding in the trailer section")
                    }
                    state = .trailerValue
                } else if !HTTPToken.isTokenCharacter(byte) {
                    return fail("invalid trailer field")
                } else {
                    trailerName.feed(byte)
                }
            case .trailerValue:
                trailerBytes += 1
                guard trailerBytes <= Self.maximumTrailerBytes else { return fail("trailer section too large") }
                if byte == UInt8(ascii: "\r") {
                    state = .trailerLF
                } else if !isFieldValueByte(byte) {
                    return fail("invalid character in trailer field")
                }
            case .trailerLF:
                guard byte == UInt8(ascii: "\n") else { return fail("trailer line without LF") }
                state = .trailerLineStart
            case .finalLF:
                guard byte == UInt8(ascii: "\n") else { return fail("chunked body without final CRLF") }
                state = .done
                return (.end(at: index + 1), index + 1)
            case .done:
                return (.end(at: index), index)
            case .failed:
                return (.invalid("chunked body already failed"), index)
            }
            index += 1
        }
        if case .done = state { return (.end(at: index), index) }
        return (.needMore, index)
    }

    /// RFC 9112 §7.1.1: `chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] )`, no
    /// whitespace. `nil` for a byte the grammar does not allow.
    private static func extensionStep(_ state: State, _ byte: UInt8) -> State? {
        let token = HTTPToken.isTokenCharacter(byte)
        switch state {
        case .extensionNameStart:
            return token ? .extensionName : nil
        case .extensionName:
            if token { return .extensionName }
            if byte == UInt8(ascii: "=") { return .extensionValueStart }
            if byte == UInt8(ascii: ";") { return .extensionNameStart }
            if byte == UInt8(ascii: "\r") { return .sizeLF }
            return nil
        case .extensionValueStart:
            if byte == UInt8(ascii: "\"") { return .extensionQuoted }
            return token ? .extensionToken : nil
        case .extensionToken:
            if token { return .extensionToken }
            if byte == UInt8(ascii: ";") { return .extensionNameStart }
            if byte == UInt8(ascii: "\r") { return .sizeLF }
            return nil
        case .extensionQuoted:
            if byte == UInt8(ascii: "\"") { return .extensionAfterQuote }
            if byte == UInt8(ascii: "\\") { return .extensionQuotedEscape }
            // qdtext: HTAB / SP / VCHAR except '"' and '\' / obs-text
            return byte == 0x09 || (byte >= 0x20 && byte != 0x7F) ? .extensionQuoted : nil
        case .extensionQuotedEscape:
            return byte == 0x09 || (byte >= 0x20 && byte != 0x7F) ? .extensionQuoted : nil
        case .extensionAfterQuote:
            if byte == UInt8(ascii: ";") { return .extensionNameStart }
            if byte == UInt8(ascii: "\r") { return .sizeLF }
            return nil
        default:
            return nil
        }
    }

    private mutating func fail(_ reason: String) -> (event: Event, next: Int) {
        state = .failed
        return (.invalid(reason), 0)
    }

    @inline(__always)
    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - 55
        default: nil
        }
    }
}
