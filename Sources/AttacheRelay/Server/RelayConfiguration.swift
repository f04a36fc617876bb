import NIOCore

/// Everything the relay needs to know, fixed at start (rules excepted: they can be swapped).
public struct RelayConfiguration: Sendable {
    public var listenHost: String
    public var listenPort: Int
    public var upstreamHost: String
    public var upstreamPort: Int
    /// Event-loop threads.
    public var threads: Int
    public var limits: HeadLimits
    /// A request head must arrive within this time once its first byte has (408 beyond), and a
    /// new connection must send one within it.
    public var headTimeout: TimeAmount
    /// A keep-alive connection with no request in progress is closed after this.
    public var idleTimeout: TimeAmount
    public var connectTimeout: TimeAmount
    /// The upstream must send the response head, and then each piece of the body, within this.
    public var responseTimeout: TimeAmount
    /// After SIGTERM: how long in-flight exchanges may take.
    public var drainTimeout: TimeAmount
    /// Idle keep-alive connections to the upstream kept per event loop.
    public var maximumIdleUpstreamConnections: Int
    /// Request-body bytes buffered for one exchange before reading from the client pauses.
    public var maximumBufferedBytes: Int

    public init(
        listenHost: String = "0.0.0.0", listenPort: Int = 8080, upstreamHost: String = "127.0.0.1",
        upstreamPort: Int = 8087, threads: Int = System.coreCount, limits: HeadLimits = HeadLimits(),
        headTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60),
        connectTimeout: TimeAmount = .seconds(5), responseTimeout: TimeAmount = .seconds(60),
        drainTimeout: TimeAmount = .seconds(20), maximumIdleUpstreamConnections: Int = 1024,
        maximumBufferedBytes: Int = 256 * 1024
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.threads = threads
        self.limits = limits
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.drainTimeout = drainTimeout
        self.maximumIdleUpstreamConnections = maximumIdleUpstreamConnections
        self.maximumBufferedBytes = maximumBufferedBytes
    }

    /// `host:port` of the upstream, for `Host` on HTTP/1.0 requests and `upstream.address`.
    public var upstreamAuthority: String { "\(upstreamHost):\(upstreamPort)" }
}
