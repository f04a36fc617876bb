#if canImport(Glibc)
import Glibc
#endif
import AttacheRules
import AttacheTelemetry
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The relay: listens for clients, runs one `ClientHandler` per connection on one of its event
/// loops, and holds the per-loop state (rules, upstream pool, access log and statistics batches).
public final class RelayServer: Sendable {
    public let configuration: RelayConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let loops: LoopStates
    public let telemetry: Telemetry
    private let serverChannel = NIOLockedValueBox<Channel?>(nil)

    /// Each loop's state, keyed by loop; built once, then each entry is used only on its loop.
    private struct LoopStates: @unchecked Sendable {
        var states: [ObjectIdentifier: LoopState] = [:]

        func state(for eventLoop: EventLoop) -> LoopState {
            states[ObjectIdentifier(eventLoop)]!
        }
    }

    /// Resolves the upstream address and prepares the loops; nothing is bound yet. `table`
    /// becomes generation 1 of the rules `telemetry` reports.
    public init(
        configuration: RelayConfiguration, table: RuleTable, warnings: [Diagnostic] = [],
        telemetry: Telemetry = Telemetry()
    ) throws {
        self.configuration = configuration
        self.telemetry = telemetry
        let upstream = try RelayServer.resolve(configuration.upstreamHost, configuration.upstreamPort)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        self.group = group
        var loops = LoopStates()
        let hostName = RelayServer.hostName()
        let plan = telemetry.install(table, warnings: warnings).plan
        for (index, eventLoop) in group.makeIterator().enumerated() {
            loops.states[ObjectIdentifier(eventLoop)] = LoopState(
                eventLoop: eventLoop, configuration: configuration, upstreamAddress: upstream, table: table,
                plan: plan, telemetry: telemetry, hostName: hostName, loopIndex: index)
        }
        self.loops = loops
        let states = loops
        telemetry.setFlushHandler {
            // Off the loops (the admin port's worker, the stats printer): wait for each loop.
            for state in states.states.values {
                let eventLoop = state.eventLoop
                _ = try? eventLoop.submit { states.state(for: eventLoop).flush() }.wait()
            }
        }
    }

    /// Binds the listening socket; returns the bound address (useful with port 0).
    public func start() throws -> SocketAddress {
        let loops = self.loops
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(
                        ClientHandler(loop: loops.state(for: channel.eventLoop)))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel = try bootstrap.bind(host: configuration.listenHost, port: configuration.listenPort).wait()
        serverChannel.withLockedValue { $0 = channel }
        telemetry.status.setPhase(.serving)
        return channel.localAddress!
    }

    /// Installs a new rule table (a reload); exchanges in flight finish on the one they
    /// started with. Returns the new generation.
    @discardableResult
    public func replaceTable(_ table: RuleTable, warnings: [Diagnostic] = []) -> Int {
        let (generation, plan) = telemetry.install(table, warnings: warnings, isReload: true)
        _ = onEachLoop { $0.replaceTable(table, plan: plan) }
        return generation
    }

    /// Runs `body` with each loop's state, on that loop, and waits for all.
    private func onEachLoop<Result: Sendable>(_ body: @escaping @Sendable (LoopState) -> Result) -> [Result] {
        let loops = self.loops
        return loops.states.values.compactMap { state in
            let eventLoop = state.eventLoop
            return try? eventLoop.submit { body(loops.state(for: eventLoop)) }.wait()
        }
    }

    /// Stops accepting, lets exchanges in flight finish (each response with
    /// `Connection: close`) for up to `timeout`, then closes what is left. Blocks.
    public func drain(timeout: TimeAmount) {
        telemetry.status.setPhase(.draining)
        let channel = serverChannel.withLockedValue { channel -> Channel? in
            defer { channel = nil }
            return channel
        }
        try? channel?.close().wait()
        let deadline = NIODeadline.now() + timeout
        _ = onEachLoop { $0.startDraining() }
        while NIODeadline.now() < deadline {
            let open = onEachLoop { $0.clients.count }.reduce(0, +)
            if open == 0 { break }
            usleep(20_000)
        }
        _ = onEachLoop { state in
            for client in Array(state.clients.values) { client.close() }
            state.flush()
        }
    }

    /// Stops the event loops (after `drain`).
    public func shutdown() {
        _ = onEachLoop { $0.flush() }
        telemetry.accessLog.flush()
        try? group.syncShutdownGracefully()
    }

    private static func resolve(_ host: String, _ port: Int) throws -> SocketAddress {
        if let address = try? SocketAddress(ipAddress: host, port: port) { return address }
        return try SocketAddress.makeAddressResolvingHost(host, port: port)
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(cString: buffer)
    }
}
