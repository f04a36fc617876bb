import AttacheRules
import AttacheTelemetry
import NIOCore
import NIOEmbedded

/// The relay's client and upstream handlers on embedded channels, one event loop whose clock the
/// caller moves: every byte in and out is in the caller's hands, no socket is opened. Upstream
/// connections are made on demand (the pool's connector) and kept in `upstreams`, newest last.
/// For handler tests and the `fuzz-relay` target.
public final class EmbeddedRelay {
    public let loop = EmbeddedEventLoop()
    public let client: EmbeddedChannel
    /// Every upstream connection the relay has opened, in order.
    public private(set) var upstreams: [EmbeddedChannel] = []
    /// The loop's state (rule table, upstream pool), owned here as `RelayServer` owns its own:
    /// pooled upstream handlers refer to the pool without owning it.
    private var state: LoopState?

    /// A relay applying `rules` (a rules file's text) with the given configuration.
    public convenience init(rules: String, configure: (inout RelayConfiguration) -> Void = { _ in }) throws {
        let outcome = RuleLoader().load(text: rules)
        guard let table = outcome.table else {
            throw EmbeddedRelayError.invalidRules(outcome.diagnostics.map(\.description).joined(separator: "\n"))
        }
        try self.init(table: table, configure: configure)
    }

    /// A relay applying a compiled table (the fuzzer compiles its rules once).
    public init(table: RuleTable, configure: (inout RelayConfiguration) -> Void = { _ in }) throws {
        var configuration = RelayConfiguration(listenHost: "127.0.0.1", listenPort: 0, upstreamPort: 9, threads: 1)
        configure(&configuration)
        client = EmbeddedChannel(loop: loop)
        let loop = self.loop
        let telemetry = Telemetry(accessLog: AccessLogWriter(descriptor: -1))
        let state = LoopState(
            eventLoop: loop, configuration: configuration,
            upstreamAddress: try SocketAddress(ipAddress: "127.0.0.1", port: 9), table: table,
            plan: telemetry.install(table).plan, telemetry: telemetry, hostName: "embedded", loopIndex: 0,
            connector: { [weak self] handler in
                let channel = EmbeddedChannel(loop: loop)
                do {
                    try channel.pipeline.syncOperations.addHandler(handler)
                } catch {
                    return loop.makeFailedFuture(error)
                }
                self?.upstreams.append(channel)
                return channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 9))
            })
        self.state = state
        try client.pipeline.syncOperations.addHandler(ClientHandler(loop: state))
        try client.connect(to: SocketAddress(ipAddress: "10.1.2.3", port: 5555)).wait()
    }

    /// The client sends bytes (one read, then read-complete).
    public func clientSends(_ bytes: [UInt8]) throws {
        guard client.isActive else { return }
        try client.writeInbound(client.allocator.buffer(bytes: bytes))
        client.pipeline.fireChannelReadComplete()
    }

    /// The newest upstream connection sends bytes.
    public func upstreamSends(_ bytes: [UInt8]) throws {
        guard let upstream = upstreams.last, upstream.isActive else { return }
        try upstream.writeInbound(upstream.allocator.buffer(bytes: bytes))
        upstream.pipeline.fireChannelReadComplete()
    }

    /// The client's side closes (as a reset would).
    public func clientCloses() {
        guard client.isActive else { return }
        client.pipeline.fireChannelInactive()
        _ = try? client.close().wait()
    }

    /// The newest upstream connection closes.
    public func upstreamCloses() {
        guard let upstream = upstreams.last, upstream.isActive else { return }
        _ = try? upstream.close().wait()
    }

    public func advance(by amount: TimeAmount) {
        loop.advanceTime(by: amount)
    }

    /// Everything written to the client since the last call.
    public func clientOutput() throws -> [UInt8] {
        try Self.drain(client)
    }

    /// Everything written to the newest upstream connection since the last call.
    public func upstreamOutput() throws -> [UInt8] {
        guard let upstream = upstreams.last else { return [] }
        return try Self.drain(upstream)
    }

    static func drain(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return bytes
    }

    /// Closes everything (the end of a fuzz input or a test) and shuts the loop down, which drops
    /// the tasks still scheduled on it (a pending log flush holds the loop's state).
    public func finish() {
        for upstream in upstreams where upstream.isActive { _ = try? upstream.close().wait() }
        if client.isActive { _ = try? client.close().wait() }
        loop.run()
        try? loop.syncShutdownGracefully()
    }
}

public enum EmbeddedRelayError: Error {
    case invalidRules(String)
}
