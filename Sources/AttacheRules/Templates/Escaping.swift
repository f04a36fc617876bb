/// Byte-level escaping used by templates, log lines and JSON output. Every function appends to
/// `output` and never fails: invalid UTF-8 in a value becomes U+FFFD where the target needs UTF-8.
public enum Escaping {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Whether `appendHTML` writes something other than the byte itself.
    @inline(__always)
    static func changesInHTML(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }

    /// `& < > " '` as entities; safe in HTML text and quoted attributes.
    public static func appendHTML<Bytes: Collection<UInt8>>(_ bytes: Bytes, to output: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): output.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): output.append(contentsOf: "&#39;".utf8)
            default: output.append(byte)
            }
        }
    }

    /// The inside of a JSON string (RFC 8259 §7), without the quotes. Also escapes U+2028 and
    /// U+2029 so the result is safe inside a `<script>` block.
    public static func appendJSONString<Bytes: Collection<UInt8>>(_ bytes: Bytes, to output: inout [UInt8])
    where Bytes.Index == Int {
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            let byte = bytes[index]
            if byte >= 0x80 {
                let length = validSequenceLength(bytes, at: index)
                if length == 0 {
                    output.append(contentsOf: "\\uFFFD".utf8)
                    index += 1
                    continue
                }
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9.
                if length == 3, byte == 0xE2, bytes[index + 1] == 0x80,
                    bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9
                {
                    output.append(contentsOf: (bytes[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                } else {
                    output.append(contentsOf: bytes[index..<(index + length)])
                }
                index += length
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: "\\t".utf8)
            case 0x00..<0x20, 0x7F:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
            index += 1
        }
    }

    /// The same for raw bytes, compiled here for them: other modules (the JSON access log) call
    /// this rather than the generic version, which they could only run unspecialized.
    public static func appendJSONString(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        appendJSONString(bytes[...], to: &output)
    }

    /// A whole JSON string literal, quotes included.
    public static func appendJSONStringLiteral(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        appendJSONString(Array(string.utf8), to: &output)
        output.append(UInt8(ascii: "\""))
    }

    /// Percent-encodes every byte except RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
    public static func appendURLEncoded<Bytes: Collection<UInt8>>(_ bytes: Bytes, to output: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }

    /// For log lines: control characters, DEL and the backslash become `\xHH`, so one exchange is
    /// always one line and an escape in the log cannot be forged by a client.
    public static func appendLogEscaped<Bytes: Collection<UInt8>>(_ bytes: Bytes, to output: inout [UInt8]) {
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") {
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "x"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            } else {
                output.append(byte)
            }
        }
    }

    /// Replaces every control character except HTAB (CR, LF and NUL among them) with a space, in
    /// place: RFC 9110 §5.5 allows none of them in a field value.
    public static func sanitizeHeaderValue(_ output: inout [UInt8], from start: Int) {
        var index = start
        while index < output.count {
            let byte = output[index]
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F { output[index] = UInt8(ascii: " ") }
            index += 1
        }
    }

    @inline(__always)
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index`, or 0 if there is none.
    static func validSequenceLength<Bytes: Collection<UInt8>>(_ bytes: Bytes, at index: Int) -> Int
    where Bytes.Index == Int {
        let lead = bytes[index]
        let length: Int
        let minimum: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80
        case 0xE0...0xEF: length = 3; minimum = 0x800
        case 0xF0...0xF4: length = 4; minimum = 0x10000
        default: return 0
        }
        guard index + length <= bytes.endIndex else { return 0 }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let next = bytes[index + offset]
            guard next & 0xC0 == 0x80 else { return 0 }
            value = value << 6 | UInt32(next & 0x3F)
        }
        if value < minimum || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return 0 }
        return length
    }
}
