import NIOCore
import NIOPosix

/// Keep-alive connections to the upstream for one event loop: upstream channels live on the
/// loop of the client connection they serve, so the two handlers call each other directly.
final class UpstreamPool {
    /// Makes an upstream connection carrying the given handler, in place of a TCP connect:
    /// `EmbeddedRelay` uses it to run both sides on embedded channels.
    typealias Connector = (UpstreamHandler) -> EventLoopFuture<Void>

    let eventLoop: EventLoop
    let configuration: RelayConfiguration
    let address: SocketAddress
    let connector: Connector?
    private var idle: [UpstreamHandler] = []

    init(eventLoop: EventLoop, configuration: RelayConfiguration, address: SocketAddress, connector: Connector? = nil) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.address = address
        self.connector = connector
    }

    var idleCount: Int { idle.count }

    /// An idle connection, most recently used first, or `nil`.
    func acquireIdle() -> UpstreamHandler? {
        while let handler = idle.popLast() {
            if handler.isActive { return handler }
        }
        return nil
    }

    /// Opens a new connection.
    func connect(_ completion: @escaping (Result<UpstreamHandler, UpstreamFailure>) -> Void) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let limits = HeadLimits(
            maximumRequestLine: configuration.limits.maximumHeaderBytes,
            maximumHeaderBytes: configuration.limits.maximumHeaderBytes,
            maximumFields: max(configuration.limits.maximumFields, 1000))
        if let connector {
            let handler = UpstreamHandler(pool: self, limits: limits)
            connector(handler).assumeIsolatedUnsafeUnchecked().whenComplete { result in
                switch result {
                case .success: completion(.success(handler))
                case .failure(let error): completion(.failure(.connectFailed(UpstreamPool.describe(error))))
                }
            }
            return
        }
        let future = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(pool: bound.value, limits: limits))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(to: address)
        future.whenComplete { result in
            switch result {
            case .success(let channel):
                do {
                    completion(.success(try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)))
                } catch {
                    channel.close(promise: nil)
                    completion(.failure(.connectFailed("\(error)")))
                }
            case .failure(let error):
                completion(.failure(.connectFailed(UpstreamPool.describe(error))))
            }
        }
    }

    /// Takes back a connection whose response is complete and which may be reused.
    func release(_ handler: UpstreamHandler) {
        guard handler.isActive, idle.count < configuration.maximumIdleUpstreamConnections else {
            handler.close()
            return
        }
        idle.append(handler)
    }

    func remove(_ handler: UpstreamHandler) {
        if let index = idle.firstIndex(where: { $0 === handler }) { idle.remove(at: index) }
    }

    func closeAll() {
        let handlers = idle
        idle.removeAll()
        for handler in handlers { handler.close() }
    }

    private static func describe(_ error: Error) -> String {
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timeout" }
        if let error = error as? IOError { return error.description }
        return "\(error)"
    }
}
