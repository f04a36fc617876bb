import Testing

@testable import AttacheRelay

@Suite struct HeadParserTests {
    /// Parses a whole request; returns the head or the error.
    func request(_ text: String, limits: HeadLimits = HeadLimits()) -> Result<(HTTPHead, [UInt8]), HeadError>? {
        var parser = HeadParser(limits: limits)
        var head = HTTPHead()
        let bytes = Array(text.utf8)
        switch bytes.withUnsafeBytes({ parser.parseRequest($0, into: &head) }) {
        case .complete: return .success((head, bytes))
        case .invalid(let error): return .failure(error)
        case .incomplete: return nil
        }
    }

    func text(_ bytes: [UInt8], _ range: Range<Int32>) -> String {
        String(decoding: bytes[Int(range.lowerBound)..<Int(range.upperBound)], as: UTF8.self)
    }

    @Test func simpleRequest() throws {
        let (head, bytes) = try #require(request("GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\nAccept:  */*  \r\n\r\n")).get()
        #expect(text(bytes, head.method) == "GET")
        #expect(text(bytes, head.target) == "/a?b=1")
        #expect(head.version == .http11)
        #expect(head.length == bytes.count)
        #expect(head.fieldsEnd == bytes.count - 2)
        #expect(head.fields.map { text(bytes, $0.name) } == ["Host", "Accept"])
        #expect(head.fields.map { text(bytes, $0.value) } == ["example.org", "*/*"])
        #expect(head.fields.map { text(bytes, $0.line) } == ["Host: example.org\r\n", "Accept:  */*  \r\n"])
        #expect(head.hostCount == 1 && head.keepsAlive && head.contentLength == nil && !head.chunked)
    }

    @Test func framingAndConnectionFacts() throws {
        let (head, bytes) = try #require(
            request(
                "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\nConnection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\nTE: trailers\r\nUpgrade: ws\r\nExpect: 100-continue\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"
            )
        ).get()
        #expect(head.contentLength == 42)
        #expect(head.connectionClose && !head.keepsAlive)
        #expect(head.expectContinue && !head.expectOther)
        let hopByHop = head.fields.filter { $0.flags.contains(.hopByHop) }.map { text(bytes, $0.name) }
        #expect(hopByHop == ["Connection", "X-Secret", "Keep-Alive", "TE", "Upgrade"])
        #expect(head.hopByHopCount == 5)
        #expect(head.fields.first { $0.flags.contains(.forwardedFor) }.map { text(bytes, $0.value) } == "1.2.3.4")
    }

    /// The whole-value shortcut for `close` and `keep-alive` and the token loop agree: case
    /// does not matter, lists work, and a longer token is a field name, not the option.
    @Test(arguments: [
        ("close", true, false, false, ["Connection"]),
        ("CLOSE", true, false, false, ["Connection"]),
        ("Keep-Alive", false, true, false, ["Connection"]),
        ("keep-alive, close", true, true, false, ["Connection"]),
        ("close ,keep-alive", true, true, false, ["Connection"]),
        ("Upgrade", false, false, true, ["Connection"]),
        ("closed", false, false, false, ["Connection", "Closed"]),
        ("keep-alives", false, false, false, ["Connection", "Keep-Alives"]),
        ("clos", false, false, false, ["Connection"]),
    ])
    func connectionOptions(value: String, close: Bool, keepAlive: Bool, upgrade: Bool, hopByHop: [String]) throws {
        let (head, bytes) = try #require(
            request("GET / HTTP/1.1\r\nHost: a\r\nConnection: \(value)\r\nClosed: 1\r\nKeep-Alives: 2\r\n\r\n")
        ).get()
        #expect(head.connectionClose == close)
        #expect(head.connectionKeepAlive == keepAlive)
        #expect(head.connectionUpgrade == upgrade)
        #expect(head.fields.filter { $0.flags.contains(.hopByHop) }.map { text(bytes, $0.name) } == hopByHop)
    }

    @Test func connectionCannotStripFramingFields() throws {
        let (head, _) = try #require(
            request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: content-length, host\r\n\r\n")
        ).get()
        #expect(head.hopByHopCount == 1)
    }

    @Test func chunkedAndHTTP10() throws {
        let (chunked, _) = try #require(request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n")).get()
        #expect(chunked.chunked && chunked.hasTransferEncoding)
        let (old, _) = try #require(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")).get()
        #expect(old.version == .http10 && old.keepsAlive && old.hostCount == 0)
        let (oldClose, _) = try #require(request("GET / HTTP/1.0\r\n\r\n")).get()
        #expect(!oldClose.keepsAlive)
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        let (head, bytes) = try #require(request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")).get()
        #expect(head.method == 4..<7)
        #expect(text(bytes, head.method) == "GET")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\nHost: a\n\n", HeadError.malformed("line ending without CR")),
        ("GET / HTTP/1.1\r\nHost: a\n\r\n", .malformed("line ending without CR")),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", .malformed("CR without LF")),
        ("GET / HTTP/1.1\rHost: a", .malformed("CR without LF")),
        ("G\u{1}T / HTTP/1.1", .malformed("invalid character in method")),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", .malformed("obsolete line folding")),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .malformed("whitespace between header field name and colon")),
        ("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", .malformed("invalid character in header field name")),
        ("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", .malformed("invalid header field name")),
        // An empty name before a byte that is neither a token character nor the colon.
        ("GET / HTTP/1.1\r\n(a: b\r\nHost: a\r\n\r\n", .malformed("invalid header field name")),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", .malformed("invalid character in header field value")),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", .malformed("invalid character in header field value")),
        ("GET / HTTP/1.1\r\n\r\n", .malformed("missing Host header")),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .malformed("more than one Host header")),
        ("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", .malformed("more than one Host header")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("both Content-Length and Transfer-Encoding")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", .malformed("more than one Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\t\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n", .malformed("invalid Content-Length")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", .malformed("Transfer-Encoding does not end with chunked")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .malformed("Transfer-Encoding does not end with chunked")),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .transferCodingNotImplemented),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("more than one Transfer-Encoding")),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("Transfer-Encoding in an HTTP/1.0 request")),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .versionNotSupported),
        ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", .versionNotSupported),
        ("GET / HTTP/1\r\nHost: a\r\n\r\n", .malformed("invalid HTTP version")),
        ("GET / http/1.1\r\nHost: a\r\n\r\n", .malformed("invalid HTTP version")),
        ("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .malformed("invalid request line")),
        ("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid character in method")),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("missing request target")),
        ("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid HTTP version")),
        ("GET /\u{1} HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid character in request target")),
        (" GET / HTTP/1.1\r\nHost: a\r\n\r\n", .malformed("invalid method")),
    ])
    func rejected(_ text: String, _ error: HeadError) {
        guard case .failure(let found)? = request(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
        #expect(found == error)
    }

    @Test func limits() {
        let limits = HeadLimits(maximumRequestLine: 64, maximumHeaderBytes: 256, maximumFields: 3)
        let longLine = "GET /" + String(repeating: "a", count: 80)
        // Refused before the line is even complete.
        guard case .failure(.requestLineTooLong)? = request(longLine, limits: limits) else {
            Issue.record("long request line not refused")
            return
        }
        let fields = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(request(fields, limits: limits).map { (try? $0.get()) == nil } == true)
        guard case .failure(.headerTooLarge("more than 3 header fields"))? = request(fields, limits: limits) else {
            Issue.record("too many fields not refused")
            return
        }
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "x", count: 300)
        guard case .failure(.headerTooLarge("header block larger than 256 bytes"))? = request(big, limits: limits) else {
            Issue.record("large header block not refused")
            return
        }
    }

    /// Fields are gathered sixteen at a time and a reused head keeps its storage: heads of 40,
    /// 3, 16 and 17 fields parsed into one head each come out whole and in order, with nothing
    /// left from the one before; the field limit holds across batches (exactly 33 of 33 allowed).
    @Test func fieldsAcrossBatchesAndReusedHeads() throws {
        var parser = HeadParser(limits: HeadLimits(maximumFields: 33))
        var head = HTTPHead()
        for count in [40, 3, 16, 17, 33, 34, 1] {
            let names = ["Host"] + (1..<count).map { "X-Field-\($0)" }
            let message = "GET / HTTP/1.1\r\n" + names.map { "\($0): value \($0)\r\n" }.joined() + "\r\n"
            let bytes = Array(message.utf8)
            parser.reset()
            let outcome = bytes.withUnsafeBytes { parser.parseRequest($0, into: &head) }
            guard count <= 33 else {
                #expect(outcome == .invalid(.headerTooLarge("more than 33 header fields")))
                continue
            }
            #expect(outcome == .complete)
            #expect(head.fieldCount == count)
            #expect(head.fields.map { text(bytes, $0.name) } == names)
            #expect(head.fields.map { text(bytes, $0.value) } == names.map { "value \($0)" })
            #expect(head.fields.map { text(bytes, $0.line) } == names.map { "\($0): value \($0)\r\n" })
            #expect(head.withFields { Array($0.map(\.name)) } == head.fields.map(\.name))
            #expect(head.hopByHopCount == 0 && head.fieldsEnd == bytes.count - 2)
        }
    }

    @Test func resumesAcrossReadsByteByByte() throws {
        let message = Array("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello".utf8)
        var parser = HeadParser()
        var head = HTTPHead()
        var outcomes: [HeadParser.Outcome] = []
        for length in 1...message.count {
            let outcome = Array(message[0..<length]).withUnsafeBytes { parser.parseRequest($0, into: &head) }
            outcomes.append(outcome)
            if outcome == .complete { break }
        }
        #expect(outcomes.last == .complete)
        #expect(outcomes.dropLast().allSatisfy { $0 == .incomplete })
        #expect(head.length == message.count - 5)
        #expect(head.contentLength == 5)
    }

    // MARK: Responses

    func response(_ text: String, limits: HeadLimits = HeadLimits()) -> Result<HTTPHead, HeadError>? {
        var parser = HeadParser(limits: limits)
        var head = HTTPHead()
        switch Array(text.utf8).withUnsafeBytes({ parser.parseResponse($0, into: &head) }) {
        case .complete: return .success(head)
        case .invalid(let error): return .failure(error)
        case .incomplete: return nil
        }
    }

    /// A response head over the limit is refused whether it arrives in pieces or whole (the
    /// fault suite found an 80 KiB head in one read relayed as it was).
    @Test func responseHeadLimit() throws {
        let limits = HeadLimits(maximumRequestLine: 64, maximumHeaderBytes: 256, maximumFields: 3)
        let whole = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 300) + "\r\n\r\n"
        guard case .failure(.headerTooLarge("header block larger than 256 bytes"))? = response(whole, limits: limits)
        else {
            Issue.record("a whole response head over the limit was not refused")
            return
        }
        let fits = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 200) + "\r\n\r\n"
        #expect(try #require(response(fits, limits: limits)).get().status == 200)
    }

    @Test func responses() throws {
        let ok = try #require(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")).get()
        #expect(ok.status == 200 && ok.contentLength == 5 && ok.version == .http11)
        let noReason = try #require(response("HTTP/1.1 204\r\n\r\n")).get()
        #expect(noReason.status == 204 && noReason.reason.isEmpty)
        let old = try #require(response("HTTP/1.0 200 OK\r\n\r\n")).get()
        #expect(old.version == .http10 && !old.keepsAlive)
        let chunked = try #require(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")).get()
        #expect(chunked.hasTransferEncoding && chunked.chunked)
        // RFC 9112 §6.3: a response coding other than chunked is read until the connection closes.
        let gzip = try #require(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")).get()
        #expect(gzip.hasTransferEncoding && !gzip.chunked)
        #expect(BodyFraming.response(gzip, requestWasHead: false) == .untilClose)
    }

    @Test(arguments: [
        ("HTTP/1.1 99 Low\r\n\r\n", HeadError.malformed("invalid status line")),
        ("HTTP/1.1 600 High\r\n\r\n", .malformed("status 600 out of range")),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformed("invalid status code")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .malformed("both Content-Length and Transfer-Encoding")),
        ("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", .malformed("invalid Content-Length")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .malformed("more than one Content-Length")),
        ("ICY 200 OK\r\n\r\n", .malformed("invalid HTTP version")),
        ("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", .malformed("whitespace between header field name and colon")),
        ("HTTP/1.1 200 OK\nX: y\n\n", .malformed("line ending without CR")),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .transferCodingNotImplemented),
        ("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", .malformed("CR without LF")),
        ("HTPT/1.1 200 OK", .malformed("invalid HTTP version")),
    ])
    func rejectedResponses(_ text: String, _ error: HeadError) {
        guard case .failure(let found)? = response(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
        #expect(found == error)
    }
}

@Suite struct HeadGrammarTests {
    /// Bytes that can never become a valid head are refused before the head is complete.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHos\u{0}", HeadError.malformed("invalid character in header field name")),
        ("GET /a H\u{80}", .malformed("invalid HTTP version")),
        ("POST /x HTTP/1.1\r\nHost: a\r\nTr\u{1}", .malformed("invalid character in header field name")),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: \u{1}", .malformed("invalid character in header field value")),
        ("GET / HTTP/1.1\r\n ", .malformed("obsolete line folding")),
        ("GET / HTTP/1.1\r\nHost: a\r\n\rX", .malformed("CR without LF")),
    ])
    func refusedEarly(_ text: String, _ error: HeadError) {
        var parser = HeadParser()
        var head = HTTPHead()
        let outcome = Array(text.utf8).withUnsafeBytes { parser.parseRequest($0, into: &head) }
        #expect(outcome == .invalid(error))
    }
}
