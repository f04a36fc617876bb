import AttacheTelemetry
import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin port (default 127.0.0.1:9901): dashboard, `/stats`, `/metrics`, `/rules`,
/// `/healthz`, `/readyz`. Runs on a thread of its own, so a slow scrape never delays traffic.
public final class AdminServer: Sendable {
    private let router: AdminRouter
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let queue = DispatchQueue(label: "attache.admin")
    private let channel = NIOLockedValueBox<Channel?>(nil)

    public init(telemetry: Telemetry) {
        router = AdminRouter(telemetry: telemetry)
    }

    /// Binds and serves; returns the bound address.
    public func start(host: String, port: Int) throws -> SocketAddress {
        let router = self.router
        let queue = self.queue
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(router: router, queue: queue))
                }
            }
        let bound = try bootstrap.bind(host: host, port: port).wait()
        channel.withLockedValue { $0 = bound }
        return bound.localAddress!
    }

    public func shutdown() {
        let bound = channel.withLockedValue { channel -> Channel? in
            defer { channel = nil }
            return channel
        }
        try? bound?.close().wait()
        try? group.syncShutdownGracefully()
    }
}
