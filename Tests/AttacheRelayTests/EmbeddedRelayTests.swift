import NIOCore
import NIOEmbedded
import Testing

@testable import AttacheRelay

/// Both handlers of the relay on embedded channels (`EmbeddedRelay`, the driver the relay fuzzer
/// uses): exact bytes at both ends of an exchange, without sockets.
@Suite struct EmbeddedRelayTests {
    static let rules = """
        rules:
          - name: friendly-404
            when: { status: 404 }
            respond: { headers: { content-type: text/plain }, body: "no {{ request.path }}" }
        """

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func proxiedExchangeBothWays() throws {
        let relay = try EmbeddedRelay(rules: Self.rules)
        defer { relay.finish() }
        try relay.clientSends(Array("GET /a?b=1 HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n".utf8))
        #expect(relay.upstreams.count == 1)
        #expect(
            text(try relay.upstreamOutput())
                == "GET /a?b=1 HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nX-Forwarded-For: 10.1.2.3\r\nVia: 1.1 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
        try relay.upstreamSends(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\n\r\nhel".utf8))
        try relay.upstreamSends(Array("lo".utf8))
        #expect(text(try relay.clientOutput()) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        // The finished exchange is kept to be restarted by the next request (no allocation).
        let handler = try relay.client.pipeline.syncOperations.handler(type: ClientHandler.self)
        let spare = ObjectIdentifier(try #require(handler.spareExchange))
        // The upstream connection went back to the pool: the next request reuses it.
        try relay.clientSends(Array("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        #expect(relay.upstreams.count == 1)
        #expect(text(try relay.upstreamOutput()).hasPrefix("GET /missing HTTP/1.1\r\n"))
        #expect(handler.exchange.map(ObjectIdentifier.init) == spare)
        try relay.upstreamSends(Array("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnah".utf8))
        #expect(
            text(try relay.clientOutput())
                == "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\nno /missing")
        #expect(relay.client.isActive)
    }

    /// A head and the body bytes read with it go to the client in one write (one trip through
    /// the pipeline); a body over 16 KiB is not copied into the head's buffer.
    @Test(arguments: [(5, 1), (16 * 1024, 1), (16 * 1024 + 1, 2)])
    func headAndBodyFromOneReadLeaveInOneWrite(_ length: Int, _ writes: Int) throws {
        let relay = try EmbeddedRelay(rules: Self.rules)
        defer { relay.finish() }
        try relay.clientSends(Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        let body = String(repeating: "b", count: length)
        try relay.upstreamSends(Array("HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\n\r\n\(body)".utf8))
        var buffers: [ByteBuffer] = []
        while let buffer = try relay.client.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        #expect(buffers.count == writes)
        #expect(text(buffers.flatMap { Array($0.readableBytesView) }) == "HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\n\r\n\(body)")
    }

    /// fuzz-relay: a 101 to a request that asked for no upgrade is a bad response (502), and
    /// the upstream connection, which now thinks it tunnels, is closed: its further bytes never
    /// reach the client, not even after the client has gone.
    @Test func upgradeAnswerToAPlainRequestDropsTheUpstream() throws {
        let relay = try EmbeddedRelay(rules: Self.rules)
        defer { relay.finish() }
        try relay.clientSends(Array("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n".utf8))
        try relay.upstreamSends(
            Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nfrom-upstream".utf8))
        let output = text(try relay.clientOutput())
        #expect(output.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(!output.contains("from-upstream"))
        #expect(!relay.upstreams[0].isActive)
        relay.clientCloses()
        try? relay.upstreamSends(Array("more".utf8))
        #expect(try relay.clientOutput().isEmpty)
    }

    @Test func upstreamDyingMidBodyCutsTheClientShort() throws {
        let relay = try EmbeddedRelay(rules: Self.rules)
        defer { relay.finish() }
        try relay.clientSends(Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        try relay.upstreamSends(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8))
        relay.upstreamCloses()
        #expect(text(try relay.clientOutput()) == "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        #expect(!relay.client.isActive)
    }

    @Test func silentUpstreamIs504AfterTheResponseTimeout() throws {
        let relay = try EmbeddedRelay(rules: Self.rules) { $0.responseTimeout = .seconds(5) }
        defer { relay.finish() }
        try relay.clientSends(Array("GET / HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        relay.advance(by: .seconds(4))
        #expect(try relay.clientOutput().isEmpty)
        relay.advance(by: .seconds(2))
        #expect(text(try relay.clientOutput()).hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"))
        #expect(relay.client.isActive)
    }
}

/// A finished relay leaves nothing behind: the driver, its channels and handlers are freed
/// (the relay fuzzer makes one per input). Two findings of `fuzz-relay` replayed: a client
/// handler that kept its context was never freed (about 1 KiB per connection in production), and
/// a pooled upstream connection closing after its loop state was gone read a dead pool (the GET
/// answered 200 below, then `finish()`).
@Suite struct EmbeddedRelayLifetimeTests {
    @Test(arguments: ["GET /a HTTP/1.1\r\nHost: t\r\n\r\n", "bad\r\n\r\n", ""])
    func finishedRelayIsFreed(_ request: String) throws {
        weak var weakRelay: EmbeddedRelay?
        weak var weakClient: EmbeddedChannel?
        weak var weakUpstream: EmbeddedChannel?
        weak var weakHandler: ClientHandler?
        weak var weakLoopState: LoopState?
        do {
            let relay = try EmbeddedRelay(rules: EmbeddedRelayTests.rules)
            weakRelay = relay
            weakClient = relay.client
            let handler = try relay.client.pipeline.syncOperations.handler(type: ClientHandler.self)
            weakHandler = handler
            weakLoopState = handler.loop
            try relay.clientSends(Array(request.utf8))
            weakUpstream = relay.upstreams.first
            try relay.upstreamSends(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
            relay.finish()
        }
        #expect(weakRelay == nil)
        #expect(weakClient == nil)
        #expect(weakUpstream == nil)
        #expect(weakHandler == nil)
        #expect(weakLoopState == nil)
    }
}
