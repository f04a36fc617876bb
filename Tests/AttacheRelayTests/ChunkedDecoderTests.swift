import Testing

@testable import AttacheRelay

@Suite struct ChunkedDecoderTests {
    /// Feeds `input` in pieces of `step` bytes; returns the data and where the body ended (in
    /// the whole input), or the error.
    func decode(_ input: String, step: Int = Int.max) -> (data: String, end: Int?, error: String?) {
        var decoder = ChunkedDecoder()
        let bytes = Array(input.utf8)
        var data: [UInt8] = []
        var position = 0
        while position < bytes.count {
            let piece = Array(bytes[position..<min(bytes.count, position + step)])
            var offset = 0
            loop: while true {
                let (event, next) = piece.withUnsafeBytes { decoder.next($0, from: offset) }
                switch event {
                case .needMore: break loop
                case .data(let range): data += piece[range]
                case .end(let at): return (String(decoding: data, as: UTF8.self), position + at, nil)
                case .invalid(let reason): return (String(decoding: data, as: UTF8.self), nil, reason)
                }
                offset = next
            }
            position += piece.count
        }
        return (String(decoding: data, as: UTF8.self), nil, nil)
    }

    @Test(arguments: [1, 2, 3, 7, Int.max])
    func wellFormedBodiesInAnyPieces(_ step: Int) {
        let body = "5\r\nhello\r\nA;ext=1;b=\"q\"\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\nNEXT"
        let result = decode(body, step: step)
        #expect(result.data == "hello, world!!!")
        #expect(result.end == body.utf8.count - 4)
        #expect(result.error == nil)
    }

    @Test func emptyBodyAndUppercaseHex() {
        #expect(decode("0\r\n\r\n").end == 5)
        #expect(decode("1F\r\n" + String(repeating: "x", count: 31) + "\r\n0\r\n\r\n").data.count == 31)
        #expect(decode("5;x\r\nhello\r\n0\r\n\r\n").data == "hello")
        #expect(decode("5;a=\"q\\\"\";b=c\r\nhello\r\n0\r\n\r\n").data == "hello")
    }

    @Test(arguments: [
        ("g\r\n", "invalid chunk size"),
        ("\r\n", "invalid chunk size"),
        ("-1\r\n", "invalid chunk size"),
        ("5\nhello\r\n", "invalid chunk size"),
        ("5\r\nhelloX\r\n0\r\n\r\n", "chunk data longer than its size"),
        ("5\r\nhello\rX", "chunk data without CRLF"),
        ("5\rhello", "chunk size line without LF"),
        ("1000000000000000\r\n", "chunk size too large"),
        ("5;\u{1}\r\n", "invalid chunk extension"),
        ("5;\r\n", "invalid chunk extension"),
        ("5;a=\r\n", "invalid chunk extension"),
        ("5;a=b c\r\n", "invalid chunk extension"),
        ("5;a}\r\n", "invalid chunk extension"),
        ("5;a=\"q\r\n", "invalid chunk extension"),
        ("5 x\r\n", "invalid chunk size"),
        ("5 ;x\r\n", "invalid chunk size"),
        ("0\r\nX\u{1}: y\r\n\r\n", "invalid trailer field"),
        ("0\r\nX: y\u{1}\r\n\r\n", "invalid character in trailer field"),
        ("0\r\n:x\r\n\r\n", "invalid trailer field"),
        ("0\r\nGET / HTTP/1.1\r\n\r\n", "invalid trailer field"),
        ("0\r\nX y: z\r\n\r\n", "invalid trailer field"),
        ("0\r\n\rX", "chunked body without final CRLF"),
        ("0\r\nContent-Length: 5\r\n\r\n", "Content-Length in the trailer section"),
        ("0\r\nX: y\r\ntransfer-ENCODING: chunked\r\n\r\n", "Transfer-Encoding in the trailer section"),
    ])
    func malformed(_ input: String, _ reason: String) {
        #expect(decode(input).error == reason)
    }

    /// Names that only start like a framing field, or contain one, are ordinary trailers.
    @Test(arguments: [1, Int.max])
    func trailersNamedLikeFramingFields(_ step: Int) {
        let body = "0\r\nContent-Length-X: 1\r\nContent-Lengt: 2\r\nX-Transfer-Encoding: 3\r\nContent-Type: a\r\n\r\n"
        #expect(decode(body, step: step).end == body.utf8.count)
        #expect(decode("0\r\nContent-Length: 5\r\n\r\n", step: step).error == "Content-Length in the trailer section")
    }

    @Test func extensionLengthIsBounded() {
        let long = "5;" + String(repeating: "a", count: ChunkedDecoder.maximumExtensionBytes + 1) + "\r\nhello\r\n0\r\n\r\n"
        #expect(decode(long).error == "chunk extension too long")
        let fine = "5;" + String(repeating: "a", count: ChunkedDecoder.maximumExtensionBytes) + "\r\nhello\r\n0\r\n\r\n"
        #expect(decode(fine).data == "hello")
    }
}

/// The framing-field recognizer the head grammar and the trailer check share.
@Suite struct FramingFieldNameTests {
    func name(_ text: String) -> FramingFieldName {
        var name = FramingFieldName()
        for byte in text.utf8 { name.feed(byte) }
        return name
    }

    @Test func recognizesExactlyTheTwoNamesInAnyCase() {
        #expect(name("Content-Length").isContentLength && !name("Content-Length").isTransferEncoding)
        #expect(name("TRANSFER-encoding").isTransferEncoding && !name("TRANSFER-encoding").isContentLength)
        for other in ["Content-Lengt", "Content-Lengths", "X-Content-Length", "Transfer-Encodings", "Content-Type", ""] {
            #expect(!name(other).isContentLength && !name(other).isTransferEncoding, "\(other)")
        }
    }
}
