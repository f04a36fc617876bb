import NIOCore
import Testing

@testable import AttacheRelay

/// The heads attache writes, byte for byte, including the ones that add the most to what they
/// copy (the writer sizes its memory from the head: a bound too small stops the process).
@Suite struct HeadWriterTests {
    func parsed(_ text: String, request: Bool) throws -> (HTTPHead, ByteBuffer) {
        var parser = HeadParser(limits: HeadLimits())
        var head = HTTPHead()
        // A reader index past zero, as in a connection's read buffer.
        var bytes = ByteBuffer(string: "junk" + text)
        bytes.moveReaderIndex(forwardBy: 4)
        let outcome = bytes.withUnsafeReadableBytes {
            request ? parser.parseRequest($0, into: &head) : parser.parseResponse($0, into: &head)
        }
        guard case .complete = outcome else {
            Issue.record("not a complete head: \(outcome)")
            throw HeadError.malformed("test head")
        }
        return (head, bytes)
    }

    func forwarded(_ text: String, client: String = "10.1.2.3", host: String = "svc:8080", upgrade: Bool = false)
        throws -> String
    {
        let (head, bytes) = try parsed(text, request: true)
        var out = ByteBuffer(string: "before|")
        HeadWriter.forwardedRequest(
            head, bytes: bytes, clientAddress: client, defaultHost: host, upgrade: upgrade, into: &out)
        // Never more than the head and what the writer may add.
        #expect(out.readableBytes - 7 <= head.length + HeadWriter.addedToRequest + client.utf8.count + host.utf8.count)
        return String(buffer: out)
    }

    @Test func plainRequestKeepsItsLinesAndAddsTheProxyFields() throws {
        #expect(
            try forwarded("GET /old HTTP/1.0\r\nHost: t\r\n\r\n")
                == "before|GET /old HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 10.1.2.3\r\n"
                + "Via: 1.0 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
        #expect(
            try forwarded("GET /a?b=1 HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n")
                == "before|GET /a?b=1 HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nX-Forwarded-For: 10.1.2.3\r\n"
                + "Via: 1.1 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
    }

    /// The most the writer adds, on the shortest heads that ask for it: a default Host (HTTP/1.0
    /// only: 1.1 requires one) or Transfer-Encoding (1.1 only: refused on 1.0), with an upgrade.
    @Test func mostAddedToTheShortestHeads() throws {
        let client = String(repeating: "f", count: 200)
        let host = String(repeating: "h", count: 300)
        #expect(
            try forwarded("GET / HTTP/1.0\r\nUpgrade: w\r\n\r\n", client: client, host: host, upgrade: true)
                == "before|GET / HTTP/1.1\r\nUpgrade: w\r\nHost: \(host)\r\nConnection: upgrade\r\n"
                + "X-Forwarded-For: \(client)\r\nVia: 1.0 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
        #expect(
            try forwarded(
                "GET / HTTP/1.1\r\nHost:\r\nTransfer-Encoding: chunked\r\nUpgrade: w\r\n\r\n", client: client, upgrade: true)
                == "before|GET / HTTP/1.1\r\nHost:\r\nUpgrade: w\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: upgrade\r\nX-Forwarded-For: \(client)\r\nVia: 1.1 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
    }

    @Test func forwardedForValuesAreJoinedAndTheRunsAroundDroppedFieldsKept() throws {
        #expect(
            try forwarded(
                "POST /p HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: t\r\nTE: trailers\r\nX-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n"
                    + "X-Forwarded-Proto: https\r\nExpect: 100-continue\r\nContent-Length: 3\r\nX-Forwarded-For:\r\n\r\nabc")
                == "before|POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                + "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3\r\nVia: 1.1 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
    }

    func response(_ text: String, chunked: Bool, connection: HeadWriter.ConnectionField) throws -> String {
        let (head, bytes) = try parsed(text, request: false)
        var out = ByteBuffer()
        HeadWriter.clientResponse(head, bytes: bytes, chunked: chunked, connection: connection, into: &out)
        return String(buffer: out)
    }

    @Test func responseHeads() throws {
        #expect(
            try response("HTTP/1.0 200 OK\r\nA: 1\r\nConnection: x\r\nX: 2\r\nKeep-Alive: 1\r\n\r\nbody", chunked: false, connection: .none)
                == "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n")
        #expect(
            try response("HTTP/1.1 204 \r\n\r\n", chunked: true, connection: .keepAlive)
                == "HTTP/1.1 204 \r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n")
        #expect(
            try response("HTTP/1.1 101 Switching\r\nUpgrade: ws\r\nConnection: upgrade\r\n\r\n", chunked: false, connection: .upgrade)
                == "HTTP/1.1 101 Switching\r\nUpgrade: ws\r\nConnection: upgrade\r\n\r\n")
        #expect(
            try response("HTTP/1.1 200 OK\r\nUpgrade: ws\r\n\r\n", chunked: false, connection: .close)
                == "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    }
}
