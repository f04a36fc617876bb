import AttacheRules
import Foundation
import NIOCore
import Testing

@testable import AttacheRelay

/// attache between a real client socket and a real upstream server, all on 127.0.0.1.
@Suite(.serialized) struct RelayEndToEndTests {
    static let friendly404 = """
        rules:
          - name: friendly-404
            when: { status: 404, origin: upstream }
            respond:
              headers: { content-type: text/html, server: Sitio }
              body: "<h1>Endpoint Not Found</h1><p>{{ request.path }}</p>"
          - name: maintenance
            when: { method: POST, path: /orders/** }
            respond: { status: 503, headers: { retry-after: "120" }, body: maintenance }
          - name: proxy-errors
            when: { status: 5xx, origin: proxy }
            respond: { body: "proxy error {{ response.status }}" }
          - name: access
            log: "{{ request.method }} {{ request.path }} {{ response.status }} {{ response.origin }}"
        """

    func withHarness(
        rules: String = RelayEndToEndTests.friendly404, configure: (inout RelayConfiguration) -> Void = { _ in },
        _ body: (RelayHarness) throws -> Void
    ) throws {
        let harness = try RelayHarness(rules: rules, configure: configure)
        defer { harness.shutdown() }
        try body(harness)
    }

    // MARK: Bodies

    @Test(arguments: [0, 1, 1000, 65_543, 1 << 20, 16 << 20])
    func responseBodiesAreByteExact(_ size: Int) throws {
        try withHarness { harness in
            let expected = TestUpstream.pattern(size)
            for path in ["size", "chunked"] {
                let response = try harness.request("GET /\(path)/\(size) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.status == 200)
                #expect(response.body.count == size)
                // Byte for byte (stronger than comparing digests, and fast in debug builds).
                #expect(response.body == expected)
                #expect(response.header("transfer-encoding") == (path == "chunked" ? "chunked" : nil))
            }
        }
    }

    @Test(arguments: [0, 1, 1000, 65_543, 1 << 20, 16 << 20])
    func requestBodiesAreByteExact(_ size: Int) throws {
        try withHarness { harness in
            let body = Array(TestUpstream.pattern(size).reversed())
            let client = try harness.client()
            try client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\n\r\n".utf8) + body)
            let response = try client.readResponse(timeout: 20)
            #expect(response.status == 200)
            #expect(response.body == body)
            // The same body, chunked, on the same connection.
            var chunked = Array("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            var offset = 0
            while offset < size {
                let piece = min(10_000, size - offset)
                chunked += Array("\(String(piece, radix: 16))\r\n".utf8) + body[offset..<(offset + piece)] + Array("\r\n".utf8)
                offset += piece
            }
            chunked += Array("0\r\n\r\n".utf8)
            try client.send(chunked)
            let second = try client.readResponse(timeout: 20)
            #expect(second.body == body)
        }
    }

    // MARK: Rules on real traffic

    @Test func upstream404IsReplacedEvenWhenTheStatusLineArrivesInTwoWrites() throws {
        try withHarness { harness in
            for path in ["/status/404", "/split-404"] {
                let response = try harness.request("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.status == 404)
                #expect(response.header("server") == "Sitio")
                #expect(response.text == "<h1>Endpoint Not Found</h1><p>\(path)</p>")
            }
            #expect(harness.logLines(expecting: 2) == ["GET /status/404 404 upstream", "GET /split-404 404 upstream"])
        }
    }

    /// Every variable a replaced response's template can use, through the real relay: the
    /// context reads them from the exchange, the loop and both heads when the template asks.
    @Test func replacedResponseRendersEveryVariable() throws {
        let rules = """
            rules:
              - name: every-variable
                when: { status: 404, origin: upstream }
                respond:
                  body: "{{ request.method }}|{{ request.path }}|{{ request.query }}|{{ request.target }}|\\
                    {{ request.host }}|{{ request.header.x-a }}|{{ client.ip }}|{{ response.status }}|{{ response.reason }}|\\
                    {{ response.origin }}|{{ response.rule }}|{{ response.header.content-length }}|{{ rule.name }}|\\
                    {{ upstream.address }}|{{ host.name }}|{{ request.id }}"
            """
        try withHarness(rules: rules) { harness in
            let first = try harness.request("GET /status/404?q=1 HTTP/1.1\r\nHost: t\r\nX-A: va\r\n\r\n")
            let second = try harness.request("GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(first.status == 404)
            let fields = first.text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            #expect(
                Array(fields.dropLast(2)) == [
                    "GET", "/status/404", "q=1", "/status/404?q=1", "t", "va", "127.0.0.1", "404", "Not Found",
                    "upstream", "every-variable", "10", "every-variable", "127.0.0.1:\(harness.upstream.port)",
                ])
            #expect(fields.dropLast().last == RelayServer.hostName())
            // `<random hex>-<loop>-<counter in hex>`: one prefix per loop, a new number per request.
            let id = fields.last ?? ""
            #expect(id.wholeMatch(of: /[0-9a-f]{1,8}-[0-9]+-[0-9a-f]+/) != nil)
            let secondID = second.text.split(separator: "|", omittingEmptySubsequences: false).last.map(String.init)
            #expect(secondID != id)
            // A missing query, header or value renders as nothing.
            #expect(second.text.hasPrefix("GET|/status/404||/status/404|t||127.0.0.1|404|"))
        }
    }

    /// A replaced response's `upstream.ms` and `duration.ms` are read from the clock when the
    /// template renders: the upstream's 60 ms delay is in both. The rule reads nothing of the
    /// request, so the relay picks it from status and origin alone.
    @Test func replacedResponseTimesIncludeTheUpstreamsDelay() throws {
        let rules = """
            rules:
              - name: timed
                when: { status: 200, origin: upstream }
                respond: { body: "{{ upstream.ms }}|{{ duration.ms }}|{{ rule.name }}|{{ client.ip }}" }
            """
        try withHarness(rules: rules) { harness in
            for _ in 0..<2 {
                let response = try harness.request("GET /delay/60 HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.status == 200)
                let fields = response.text.split(separator: "|").map(String.init)
                #expect(fields.count == 4 && fields[2...] == ["timed", "127.0.0.1"])
                #expect(fields.prefix(2).allSatisfy { $0.wholeMatch(of: /[0-9]+\.[0-9]{3}/) != nil }, "\(fields)")
                let upstream = Double(fields[0]) ?? -1
                let duration = Double(fields[1]) ?? -1
                #expect(upstream >= 60 && upstream <= duration && duration < 10_000, "\(fields)")
            }
        }
    }

    @Test func bodyContainingAStatusLinePassesUntouched() throws {
        try withHarness { harness in
            let response = try harness.request("GET /contains-404 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.text == "HTTP/1.1 404 Not Found\r\n\r\n")
        }
    }

    @Test func requestPhaseRuleNeverReachesTheUpstream() throws {
        try withHarness { harness in
            let response = try harness.request("POST /orders/7 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
            #expect(response.status == 503)
            #expect(response.header("retry-after") == "120")
            #expect(response.text == "maintenance")
            #expect(harness.upstream.requestCount == 0)
            #expect(harness.logLines(expecting: 1) == ["POST /orders/7 503 proxy"])
        }
    }

    /// A request-phase answer renders no response variable (docs/rules.md, lint A204), exactly as
    /// `explain` does; the log line after it sees the final status, origin and rule.
    @Test func requestPhaseAnswerRendersNoResponseVariables() throws {
        let rules = """
            rules:
              - name: early
                when: { path: /early }
                respond:
                  status: 503
                  body: "{{ rule.name }}|{{ response.rule }}|{{ response.origin }}|{{ response.status }}|\
            {{ duration.ms }}|{{ upstream.ms }}|{{ upstream.address | default('none') }}|{{ client.ip }}"
              - name: access
                log: "{{ request.path }} {{ response.status }} {{ response.origin }} {{ response.rule }}"
            """
        try withHarness(rules: rules) { harness in
            let response = try harness.request("GET /early HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(response.status == 503)
            #expect(response.text == "early||||||none|127.0.0.1")
            #expect(harness.upstream.requestCount == 0)
            #expect(harness.logLines(expecting: 1) == ["/early 503 proxy early"])
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send(
                "GET /size/3 HTTP/1.1\r\nHost: t\r\n\r\nGET /status/404 HTTP/1.1\r\nHost: t\r\n\r\nGET /delay/30 HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try client.readResponse()
            let second = try client.readResponse()
            let third = try client.readResponse()
            #expect([first.status, second.status, third.status] == [200, 404, 200] as [Int])
            #expect(first.body == TestUpstream.pattern(3))
            #expect(second.header("server") == "Sitio")
            #expect(third.text == "delayed")
        }
    }

    @Test func thousandRequestsOnOneConnection() throws {
        try withHarness { harness in
            let client = try harness.client()
            for index in 0..<1000 {
                try client.send("GET /size/\(index % 50) HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 200 && response.body.count == index % 50)
            }
            // Upstream connections were reused, not opened per request.
            #expect(harness.upstream.requestCount == 1000)
        }
    }

    @Test func upgradeTunnelsBytesBothWays() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 101)
            #expect(response.header("upgrade") == "echo")
            #expect(response.header("connection") == "upgrade")
            let payload = TestUpstream.pattern(64 * 1024)
            try client.send(payload)
            client.receive(timeout: 10) { $0.count >= payload.count }
            #expect(client.take() == payload)
            client.shutdownWrite()
            #expect(client.receiveUntilClosed())
        }
    }

    // MARK: Upstream failures

    @Test func upstreamDownIsA502RenderedByAProxyRule() throws {
        try withHarness(configure: { $0.upstreamPort = 1; $0.connectTimeout = .seconds(2) }) { harness in
            let start = Date()
            let response = try harness.request("GET /anything HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(response.status == 502)
            #expect(response.text == "proxy error 502")
            #expect(Date().timeIntervalSince(start) < 2)
            #expect(harness.logLines(expecting: 1) == ["GET /anything 502 proxy"])
        }
    }

    @Test func silentUpstreamIsA504() throws {
        try withHarness(configure: { $0.responseTimeout = .milliseconds(300) }) { harness in
            let response = try harness.request("GET /silent HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(response.status == 504)
            #expect(response.text == "proxy error 504")
        }
    }

    @Test func malformedUpstreamResponsesAre502() throws {
        try withHarness(rules: "rules: []\n") { harness in
            for path in ["/bad-status", "/cl-te"] {
                let response = try harness.request("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.status == 502)
                #expect(response.text.hasPrefix("502 Bad Gateway: malformed response from the upstream"))
            }
        }
    }

    @Test func upstreamResetMidBodyClosesTheClientBeforeTheDeclaredLength() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("GET /reset-mid-body HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(client.receiveUntilClosed())
            let text = String(decoding: client.received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"))
            #expect(text.hasSuffix("\r\n\r\n0123456789"))
        }
    }

    @Test func clientsThatLeaveEarlyReleaseTheirUpstreamConnections() throws {
        try withHarness(rules: "rules: []\n") { harness in
            var clients: [RawClient] = []
            for _ in 0..<50 {
                let client = try harness.client()
                try client.send("GET /silent HTTP/1.1\r\nHost: t\r\n\r\n")
                clients.append(client)
            }
            #expect(eventually { harness.upstream.requestCount == 50 })
            #expect(harness.upstream.openConnectionCount == 50)
            clients.removeAll()
            #expect(eventually { harness.upstream.openConnectionCount == 0 })
        }
    }

    // MARK: Protocol

    @Test func contentLengthWithTransferEncodingIs400AndNeverForwarded() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.header("connection") == "close")
            #expect(client.receiveUntilClosed())
            #expect(harness.upstream.requestCount == 0)
        }
    }

    @Test func hopByHopFieldsNeverReachTheUpstream() throws {
        try withHarness { harness in
            let response = try harness.request(
                "GET /headers HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, X-Private\r\nX-Private: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nTrailer: X\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Kept: yes\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.text == """
                GET /headers HTTP/1.1
                Host: t
                X-Kept: yes
                X-Forwarded-For: 203.0.113.9, 127.0.0.1
                Via: 1.1 attache
                X-Forwarded-Proto: http
                """)
        }
    }

    /// RFC 9110 §7.6.3: the client's Via lines stay, attache's comes after them, naming the
    /// protocol version the request arrived with.
    @Test func viaIsAppended() throws {
        try withHarness { harness in
            let response = try harness.request(
                "GET /headers HTTP/1.0\r\nHost: t\r\nVia: 1.1 edge\r\nConnection: keep-alive\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.text == """
                GET /headers HTTP/1.1
                Host: t
                Via: 1.1 edge
                X-Forwarded-For: 127.0.0.1
                Via: 1.0 attache
                X-Forwarded-Proto: http
                """)
        }
    }

    @Test func hopByHopFieldsFromTheUpstreamNeverReachTheClient() throws {
        try withHarness { harness in
            let response = try harness.request("GET /hop HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(response.headers.map(\.name) == ["x-public", "content-length"])
        }
    }

    @Test func limitsAndMissingHost() throws {
        try withHarness(configure: {
            $0.limits = HeadLimits(maximumRequestLine: 1024, maximumHeaderBytes: 4096, maximumFields: 20)
        }) { harness in
            let long = try harness.request("GET /" + String(repeating: "a", count: 2000) + " HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(long.status == 414)
            let fields = (0..<21).map { "X-\($0): v\r\n" }.joined()
            #expect(try harness.request("GET / HTTP/1.1\r\nHost: t\r\n\(fields)\r\n").status == 431)
            let big = "X: " + String(repeating: "b", count: 5000) + "\r\n"
            #expect(try harness.request("GET / HTTP/1.1\r\nHost: t\r\n\(big)\r\n").status == 431)
            #expect(try harness.request("GET / HTTP/1.1\r\n\r\n").status == 400)
            #expect(harness.upstream.requestCount == 0)
        }
    }

    /// A refused request whose client goes on sending still gets its 400 and an orderly end,
    /// not a reset: attache closes its output and reads on until the client is done (lingering
    /// close).
    @Test func aRefusedRequestsAnswerSurvivesTheBytesAfterIt() throws {
        try withHarness { relay in
            let client = try RawClient(port: relay.port)
            try client.send(
                "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;x=" + String(repeating: "a", count: 5000))
            // attache has refused the chunk line and answered by now; the client does not know.
            usleep(300_000)
            try client.send(String(repeating: "b", count: 1000))
            usleep(100_000)
            // Closed at once, attache's kernel had answered the bytes above with a reset, and
            // this send failed (as varnishtest's client did in chunked-limits.vtc).
            try client.send(String(repeating: "c", count: 1000))
            usleep(100_000)
            #expect(client.receiveUntilClosed(timeout: 5))
            #expect(!client.resetByPeer)
            let text = String(decoding: client.received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(text)")
            #expect(text.hasSuffix("\r\n\r\n400 Bad Request: chunk extension too long\n"), "\(text)")
        }
    }

    @Test func slowHeadIsA408() throws {
        try withHarness(configure: { $0.headTimeout = .milliseconds(300) }) { harness in
            let client = try harness.client()
            try client.send("GET / HTTP/1.1\r\nHost: t\r\n")
            let response = try client.readResponse(timeout: 3)
            #expect(response.status == 408)
            #expect(client.receiveUntilClosed())
        }
    }

    @Test func headRequestsAnd204And304HaveNoBody() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("HEAD /size/100 HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(headRequest: true)
            #expect(head.status == 200 && head.header("content-length") == "100" && head.body.isEmpty)
            for status in [204, 304] {
                try client.send("GET /status/\(status) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().status == status)
            }
            // The connection is still in step: a normal request works.
            try client.send("GET /size/5 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().body == TestUpstream.pattern(5))
            #expect(client.received.isEmpty)
        }
    }

    @Test func bytesAnUpstreamSendsWhileIdleRetireItsConnection() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("HEAD /stray/idle HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(headRequest: true)
            #expect(head.status == 200 && head.header("content-length") == "5" && head.body.isEmpty)
            // The five bytes after the HEAD response reach the pooled connection: attache closes it.
            #expect(eventually { harness.upstream.openConnectionCount == 0 })
            try client.send("GET /size/5 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().body == TestUpstream.pattern(5))
            #expect(harness.upstream.openConnectionCount == 1)
            #expect(client.received.isEmpty)
        }
    }

    @Test func bytesAnUpstreamSendsBeforeTheNextResponseAreA502() throws {
        // No rules: the 502 is attache's own, naming what was wrong.
        try withHarness(rules: "rules: []\n") { harness in
            let client = try harness.client()
            try client.send("HEAD /stray/next HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(headRequest: true)
            #expect(head.status == 200 && head.header("content-length") == "5" && head.body.isEmpty)
            // The reused connection answers the next request with the stray bytes first: no
            // status line, so a 502 on a connection that stays open, and the upstream's is closed.
            try client.send("GET /size/5 HTTP/1.1\r\nHost: t\r\n\r\n")
            let failed = try client.readResponse()
            #expect(failed.status == 502)
            #expect(failed.text == "502 Bad Gateway: malformed response from the upstream: invalid HTTP version\n")
            #expect(eventually { harness.upstream.openConnectionCount == 0 })
            try client.send("GET /size/5 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().body == TestUpstream.pattern(5))
            #expect(harness.upstream.requestCount == 3)
            #expect(client.received.isEmpty)
        }
    }

    @Test func interimResponsesAreForwarded() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("GET /interim HTTP/1.1\r\nHost: t\r\n\r\n")
            let early = try client.readResponse()
            #expect(early.status == 103 && early.header("link") == "</style.css>")
            let final = try client.readResponse()
            #expect(final.status == 200 && final.text == "ok")
        }
    }

    @Test func expectContinueIsAnsweredThenTheBodyRelayed() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            try client.send("hello")
            let response = try client.readResponse()
            #expect(response.status == 200 && response.text == "hello")
            #expect(harness.upstream.heads.withLockedValue { $0.last?.contains("Expect") } == false)
        }
    }

    @Test func closeDelimitedResponsesEndTheClientConnection() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("GET /no-length HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(client.receiveUntilClosed())
            let text = String(decoding: client.received, as: UTF8.self)
            #expect(text == "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
        }
    }

    @Test func http10KeepAliveAndChunkedResponsesForIt() throws {
        try withHarness { harness in
            let client = try harness.client()
            try client.send("GET /size/4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let first = try client.readResponse()
            #expect(first.statusLine == "HTTP/1.1 200 OK")
            #expect(first.header("connection") == "keep-alive")
            #expect(first.body == TestUpstream.pattern(4))
            // A chunked upstream response is decoded for HTTP/1.0 and the connection then closes.
            try client.send("GET /chunked/10000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(client.receiveUntilClosed())
            let text = client.received
            let end = HTTPTestResponse.find(text, Array("\r\n\r\n".utf8), from: 0)!
            #expect(String(decoding: text[0..<end], as: UTF8.self) == "HTTP/1.1 200 OK\r\nConnection: close")
            #expect(Array(text[(end + 4)...]) == TestUpstream.pattern(10000))
        }
    }
}
