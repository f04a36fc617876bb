import AttacheRules

/// Checks a head's syntax one byte at a time, as bytes arrive, so garbage is refused at the
/// first wrong byte (as llhttp does) instead of once the whole head is in. `HeadParser` runs
/// it while looking for the end of the head, then extracts the head in one pass.
struct HeadGrammar {
    enum Kind {
        case request
        case response
    }

    private enum State {
        case methodStart
        case method
        case targetStart
        case target
        /// The scheme of an absolute-form target (`http:`…).
        case scheme
        /// The `//` after an absolute-form scheme.
        case schemeSlash(Int)
        /// The asterisk-form target, `*`, must be alone.
        case asterisk
        /// Position in `HTTP/d.d`: after the target in a request line, first in a status line.
        case version(Int)
        case requestLineEnd
        /// -1: the space before the code; 0…2: digits; 3: after the code.
        case statusCode(Int)
        case reason
        case lineLF
        case fieldStart
        case fieldName
        case fieldValue
        /// The value of Content-Length: digits and surrounding whitespace only.
        case contentLengthValue
        case fieldLF
        case endLF
        case done
    }

    private let kind: Kind
    private var state: State
    /// Whether the current field name is a framing field.
    private var fieldName = FramingFieldName()
    private var seenContentLength = false
    private var seenTransferEncoding = false

    init(_ kind: Kind) {
        self.kind = kind
        state = kind == .request ? .methodStart : .version(0)
    }

    /// Consumes one byte; throws the error the full parse would report for it.
    @inline(__always)
    mutating func feed(_ byte: UInt8) throws(HeadError) {
        if byte == UInt8(ascii: "\n") {
            switch state {
            case .lineLF, .fieldLF, .endLF, .done: break
            default: throw .malformed("line ending without CR")
            }
        }
        switch state {
        case .methodStart:
            guard HTTPToken.isTokenCharacter(byte) else { throw .malformed("invalid method") }
            state = .method
        case .method:
            if byte == UInt8(ascii: " ") {
                state = .targetStart
            } else if !HTTPToken.isTokenCharacter(byte) {
                throw .malformed("invalid character in method")
            }
        case .targetStart:
            // RFC 9112 §3.2: origin-form (`/…`), asterisk-form (`*`), absolute-form (`scheme:…`,
            // also how authority-form `host:port` begins).
            switch byte {
            case UInt8(ascii: "/"): state = .target
            case UInt8(ascii: "*"): state = .asterisk
            case UInt8(ascii: "#"): throw .malformed("invalid request target")
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): state = .scheme
            case UInt8(ascii: " "): throw .malformed("missing request target")
            default: throw .malformed("invalid request target")
            }
        case .scheme:
            // Letters only, as llhttp reads schemes (RFC 3986 would allow digits, + - .).
            switch byte {
            case UInt8(ascii: ":"): state = .schemeSlash(0)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): break
            default: throw .malformed("invalid request target")
            }
        case .schemeSlash(let count):
            guard byte == UInt8(ascii: "/") else { throw .malformed("invalid request target") }
            state = count == 0 ? .schemeSlash(1) : .target
        case .asterisk:
            guard byte == UInt8(ascii: " ") else { throw .malformed("invalid request target") }
            state = .version(0)
        case .target:
            if byte == UInt8(ascii: " ") {
                state = .version(0)
            } else if !(byte > 0x20 && byte < 0x7F) || byte == UInt8(ascii: "#") {
                // A fragment is never sent (RFC 9112 §3.2).
                throw .malformed("invalid character in request target")
            }
        case .version(let position):
            let valid: Bool
            switch position {
            case 0: valid = byte == UInt8(ascii: "H")
            case 1, 2: valid = byte == UInt8(ascii: "T")
            case 3: valid = byte == UInt8(ascii: "P")
            case 4: valid = byte == UInt8(ascii: "/")
            case 6: valid = byte == UInt8(ascii: ".")
            default: valid = isDigit(byte)
            }
            guard valid else { throw .malformed("invalid HTTP version") }
            // Only 1.0 and 1.1: a well-formed other version is refused as soon as it shows.
            if position == 5, byte != UInt8(ascii: "1") { throw .versionNotSupported }
            if position == 7, byte != UInt8(ascii: "0"), byte != UInt8(ascii: "1") { throw .versionNotSupported }
            if position < 7 {
                state = .version(position + 1)
            } else {
                state = kind == .request ? .requestLineEnd : .statusCode(-1)
            }
        case .requestLineEnd:
            guard byte == UInt8(ascii: "\r") else { throw .malformed("invalid request line") }
            state = .lineLF
        case .statusCode(let position):
            if position == -1 {
                guard byte == UInt8(ascii: " ") else { throw .malformed("invalid status line") }
                state = .statusCode(0)
            } else if position < 3 {
                guard isDigit(byte) else { throw .malformed("invalid status line") }
                state = .statusCode(position + 1)
            } else if byte == UInt8(ascii: " ") {
                state = .reason
            } else if byte == UInt8(ascii: "\r") {
                state = .lineLF
            } else {
                throw .malformed("invalid status code")
            }
        case .reason:
            if byte == UInt8(ascii: "\r") {
                state = .lineLF
            } else if !isFieldValueByte(byte) {
                throw .malformed("invalid character in reason phrase")
            }
        case .lineLF, .fieldLF:
            guard byte == UInt8(ascii: "\n") else { throw .malformed("CR without LF") }
            state = .fieldStart
        case .endLF:
            guard byte == UInt8(ascii: "\n") else { throw .malformed("CR without LF") }
            state = .done
        case .fieldStart:
            if byte == UInt8(ascii: "\r") {
                state = .endLF
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                throw .malformed("obsolete line folding")
            } else if HTTPToken.isTokenCharacter(byte) {
                state = .fieldName
                fieldName = FramingFieldName()
                fieldName.feed(byte)
            } else {
                throw .malformed("invalid header field name")
            }
        case .fieldName:
            if byte == UInt8(ascii: ":") {
                // Framing fields are refused at once when they repeat or conflict (like llhttp).
                if fieldName.isContentLength {
                    if seenContentLength { throw .malformed("more than one Content-Length") }
                    if seenTransferEncoding, kind == .request {
                        throw .malformed("both Content-Length and Transfer-Encoding")
                    }
                    seenContentLength = true
                    state = .contentLengthValue
                } else {
                    if fieldName.isTransferEncoding {
                        if seenTransferEncoding { throw .malformed("more than one Transfer-Encoding") }
                        if seenContentLength, kind == .request {
                            throw .malformed("both Content-Length and Transfer-Encoding")
                        }
                        seenTransferEncoding = true
                    }
                    state = .fieldValue
                }
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                throw .malformed("whitespace between header field name and colon")
            } else if !HTTPToken.isTokenCharacter(byte) {
                throw .malformed("invalid character in header field name")
            } else {
                fieldName.feed(byte)
            }
        case .contentLengthValue:
            if byte == UInt8(ascii: "\r") {
                state = .fieldLF
            } else if !isDigit(byte) && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                throw .malformed("invalid Content-Length")
            }
        case .fieldValue:
            if byte == UInt8(ascii: "\r") {
                state = .fieldLF
            } else if !isFieldValueByte(byte) {
                throw .malformed("invalid character in header field value")
            }
        case .done:
            break
        }
    }
}
