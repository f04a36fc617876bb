import AttacheRules
import AttacheTelemetry
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import AttacheRelay

/// `ClientHandler` on an `EmbeddedChannel`: exact bytes out for bytes in, with time under the
/// test's control. Only paths that never reach an upstream are exercised here; the upstream
/// side runs against real sockets in `RelayEndToEndTests`.
@Suite struct ClientHandlerTests {
    static let rules = """
        rules:
          - name: maintenance
            when: { path: /maintenance/** }
            respond: { status: 503, headers: { retry-after: "120" }, body: down }
          - name: hello
            when: { path: "/hello/{name}" }
            respond: { status: 200, body: "hi {{ path.name }}" }
        """

    final class Harness {
        let channel: EmbeddedChannel
        let loop: EmbeddedEventLoop

        init(configure: (inout RelayConfiguration) -> Void = { _ in }) throws {
            loop = EmbeddedEventLoop()
            channel = EmbeddedChannel(loop: loop)
            var configuration = RelayConfiguration(listenHost: "127.0.0.1", listenPort: 0, upstreamPort: 9, threads: 1)
            configure(&configuration)
            let table = try #require(RuleLoader().load(text: ClientHandlerTests.rules).table)
            let state = LoopState(
                eventLoop: loop, configuration: configuration,
                upstreamAddress: try SocketAddress(ipAddress: "127.0.0.1", port: 9), table: table,
                plan: .empty, telemetry: Telemetry(accessLog: AccessLogWriter(descriptor: -1)), hostName: "test",
                loopIndex: 0)
            try channel.pipeline.syncOperations.addHandler(ClientHandler(loop: state))
            try channel.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 5555)).wait()
        }

        func send(_ text: String) throws {
            var buffer = channel.allocator.buffer(capacity: text.utf8.count)
            buffer.writeString(text)
            try channel.writeInbound(buffer)
            channel.pipeline.fireChannelReadComplete()
        }

        /// Everything written to the client so far.
        func output() throws -> String {
            var text = ""
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
                text += buffer.readString(length: buffer.readableBytes) ?? ""
            }
            return text
        }
    }

    @Test func requestPhaseRuleAnswersWithExactBytes() throws {
        let harness = try Harness()
        try harness.send("GET /maintenance/orders HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try harness.output() == "HTTP/1.1 503 Service Unavailable\r\nretry-after: 120\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 4\r\n\r\ndown")
        #expect(harness.channel.isActive)
    }

    @Test func pipelinedLocalResponsesComeInOrder() throws {
        let harness = try Harness()
        try harness.send("GET /hello/ann HTTP/1.1\r\nHost: t\r\n\r\nGET /hello/bob HTTP/1.1\r\nHost: t\r\n\r\n")
        let body = "content-type: text/plain; charset=utf-8\r\ncontent-length: 6\r\n\r\n"
        #expect(try harness.output() == "HTTP/1.1 200 OK\r\n\(body)hi annHTTP/1.1 200 OK\r\n\(body)hi bob")
    }

    @Test func headRequestKeepsTheLengthWithoutTheBody() throws {
        let harness = try Harness()
        try harness.send("HEAD /hello/ann HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try harness.output() == "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 6\r\n\r\n")
    }

    @Test func shortRequestBodyIsDroppedAndTheConnectionKept() throws {
        let harness = try Harness()
        try harness.send("POST /hello/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhel")
        #expect(try harness.output().hasPrefix("HTTP/1.1 200 OK\r\n"))
        try harness.send("loGET /hello/y HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try harness.output().hasSuffix("hi y"))
        #expect(harness.channel.isActive)
    }

    @Test func http10WithoutKeepAliveCloses() throws {
        let harness = try Harness()
        try harness.send("GET /hello/x HTTP/1.0\r\n\r\n")
        #expect(try harness.output() == "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 4\r\nConnection: close\r\n\r\nhi x")
        #expect(!harness.channel.isActive)
    }

    @Test func http10KeepAliveIsAcknowledged() throws {
        let harness = try Harness()
        try harness.send("GET /hello/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try harness.output().contains("\r\nConnection: keep-alive\r\n\r\nhi x"))
        #expect(harness.channel.isActive)
    }

    @Test func malformedHeadIs400AndCloses() throws {
        let harness = try Harness()
        try harness.send("GET / HTTP/1.1\r\nHost : t\r\n\r\n")
        #expect(try harness.output() == "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 64\r\nConnection: close\r\n\r\n400 Bad Request: whitespace between header field name and colon\n")
        #expect(!harness.channel.isActive)
    }

    @Test func invalidPercentEncodingIs400() throws {
        let harness = try Harness()
        try harness.send("GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try harness.output().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(!harness.channel.isActive)
    }

    @Test func slowHeadGets408AfterTheHeadTimeout() throws {
        let harness = try Harness { $0.headTimeout = .seconds(10) }
        try harness.send("GET /hello/x HTTP/1.1\r\nHo")
        harness.loop.advanceTime(by: .seconds(9))
        #expect(try harness.output() == "")
        harness.loop.advanceTime(by: .seconds(2))
        #expect(try harness.output().hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(!harness.channel.isActive)
    }

    @Test func idleKeepAliveConnectionClosesSilently() throws {
        let harness = try Harness { $0.idleTimeout = .seconds(60) }
        try harness.send("GET /hello/x HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try harness.output()
        harness.loop.advanceTime(by: .seconds(59))
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .seconds(2))
        #expect(try harness.output() == "")
        #expect(!harness.channel.isActive)
    }

    /// Each exchange restarts the idle timeout, also when a request-phase rule answers within the
    /// same read (the connection never leaves the head state between two timer updates). The
    /// reliability flood found keep-alive clients cut off 60 s after their first request.
    @Test func busyKeepAliveConnectionIsNotClosedAsIdle() throws {
        let harness = try Harness { $0.idleTimeout = .seconds(60) }
        for second in 0..<5 {
            try harness.send("GET /hello/\(second) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try harness.output().hasPrefix("HTTP/1.1 200 OK\r\n"))
            harness.loop.advanceTime(by: .seconds(50))
            #expect(harness.channel.isActive, "closed after request \(second)")
        }
        harness.loop.advanceTime(by: .seconds(11))
        #expect(!harness.channel.isActive)
    }

    /// The head timeout of a pipelined request counts from the end of the exchange before it.
    @Test func pipelinedHeadTimeoutRestartsPerRequest() throws {
        let harness = try Harness { $0.headTimeout = .seconds(10) }
        try harness.send("GET /hello/a HTTP/1.1\r\nHost: t\r\n\r\nGET /hel")
        harness.loop.advanceTime(by: .seconds(8))
        try harness.send("lo/b HTTP/1.1\r\nHost: t\r\n\r\nGET /hello/c HTTP/1.1\r\nHo")
        #expect(try harness.output().components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        harness.loop.advanceTime(by: .seconds(9))
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .seconds(2))
        #expect(try harness.output().hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test func newConnectionThatSendsNothingIsClosedAfterTheHeadTimeout() throws {
        let harness = try Harness { $0.headTimeout = .seconds(10) }
        harness.loop.advanceTime(by: .seconds(11))
        #expect(try harness.output() == "")
        #expect(!harness.channel.isActive)
    }

    @Test func connectIsRefused() throws {
        let harness = try Harness()
        try harness.send("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n")
        #expect(try harness.output().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    }
}
