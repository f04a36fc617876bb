import AttacheRules
import NIOCore

/// What the connections of one event loop share: the current rule table (swapped on reload by
/// a task on this loop, so reading it needs no lock), working memory for evaluating rules,
/// the upstream pool, and the access-log batch. Only ever touched on its loop.
final class LoopState {
    let eventLoop: EventLoop
    let configuration: RelayConfiguration
    let pool: UpstreamPool
    let accessLog: AccessLogWriter
    let observer: ExchangeObserver?
    let hostName: String
    private(set) var table: RuleTable
    var scratch = MatchScratch()
    var completion: [Int32] = []
    var headerFields: [HeaderField] = []
    var pathScratch: [UInt8] = []
    var renderScratch: [UInt8] = []
    var renderOutput: [UInt8] = []
    private var logBatch: [UInt8] = []
    private var logLines = 0
    private var logFlushScheduled = false
    private var requestCounter: UInt64 = 0
    private let requestIDPrefix: String
    /// Client connections open on this loop, for draining.
    var clients: [ObjectIdentifier: ClientHandler] = [:]
    private(set) var draining = false

    init(
        eventLoop: EventLoop, configuration: RelayConfiguration, upstreamAddress: SocketAddress, table: RuleTable,
        accessLog: AccessLogWriter, observer: ExchangeObserver?, hostName: String, loopIndex: Int
    ) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.pool = UpstreamPool(eventLoop: eventLoop, configuration: configuration, address: upstreamAddress)
        self.table = table
        self.accessLog = accessLog
        self.observer = observer
        self.hostName = hostName
        var generator = SystemRandomNumberGenerator()
        requestIDPrefix = String(generator.next() & 0xFFFF_FFFF, radix: 16) + "-\(loopIndex)-"
        logBatch.reserveCapacity(64 * 1024)
    }

    func replaceTable(_ table: RuleTable) {
        self.table = table
    }

    /// A new request id: unique per process, cheap (no randomness per request).
    func nextRequestID() -> String {
        requestCounter &+= 1
        return requestIDPrefix + String(requestCounter, radix: 16)
    }

    /// Appends one access-log line; lines are written in batches, at most 100 ms later.
    func log(_ line: [UInt8]) {
        logBatch.append(contentsOf: line)
        logBatch.append(UInt8(ascii: "\n"))
        logLines += 1
        if logBatch.count >= 64 * 1024 {
            flushLog()
        } else if !logFlushScheduled {
            logFlushScheduled = true
            eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .milliseconds(100)) { [self] in
                logFlushScheduled = false
                flushLog()
            }
        }
    }

    func flushLog() {
        guard !logBatch.isEmpty else { return }
        accessLog.write(logBatch, lines: logLines)
        logBatch.removeAll(keepingCapacity: true)
        logLines = 0
    }

    /// Stops keep-alive on this loop: idle connections close now, busy ones after their exchange.
    func startDraining() {
        draining = true
        for client in Array(clients.values) { client.drain() }
        pool.closeAll()
    }
}

/// Where finished exchanges go besides the access log (statistics plug in here).
protocol ExchangeObserver: AnyObject {
    func exchangeCompleted(rule: Rule, key: [UInt8], status: Int, durationNanoseconds: Int64, upstreamNanoseconds: Int64?)
}
