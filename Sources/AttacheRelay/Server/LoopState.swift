import AttacheRules
import AttacheTelemetry
import NIOCore

/// What the connections of one event loop share: the current rule table and its record plan
/// (swapped on reload by a task on this loop, so reading them needs no lock), working memory for
/// evaluating rules, the upstream pool, and the batches of access-log lines and statistics.
/// Only ever touched on its loop.
final class LoopState {
    let eventLoop: EventLoop
    let configuration: RelayConfiguration
    let pool: UpstreamPool
    let telemetry: Telemetry
    let hostName: String
    /// `host:port` of the upstream, for requests without a Host (made once, not per request).
    let upstreamAuthority: String
    private(set) var table: RuleTable {
        didSet { unretainedTable = Unmanaged.passUnretained(table) }
    }
    /// `table` without a reference count of its own, for the per-read hot path: reading `table`
    /// retains and releases it on every call (4 times per request). Valid while `table` holds
    /// it, which is until a reload replaces it between two events on this loop.
    private(set) var unretainedTable: Unmanaged<RuleTable>
    private(set) var plan: RecordPlan
    var scratch = MatchScratch()
    var completion: [Int32] = []
    var headerFields: [HeaderField] = []
    var pathScratch: [UInt8] = []
    var renderScratch: [UInt8] = []
    var renderOutput: [UInt8] = []
    /// The request id written out for an access-log line.
    var requestIDBytes: [UInt8] = []
    /// A rule's response on the wire, and its body, while it is rendered (`respondLocally`).
    var localResponse: [UInt8] = []
    var localBody: [UInt8] = []
    private let recorder: StatsRecorder
    private var jsonWriter = JSONWriter(capacity: 1024)
    private var logBatch: [UInt8] = []
    private var logLines = 0
    private var flushScheduled = false
    private var requestCounter: UInt64 = 0
    /// The first part of every request id on this loop (`RequestID`).
    private let requestIDPrefix: String
    /// Client connections open on this loop, for draining.
    var clients: [ObjectIdentifier: ClientHandler] = [:]
    private(set) var draining = false

    /// Log lines and statistics are handed on at most this long after an exchange ends.
    static let flushInterval = TimeAmount.milliseconds(100)

    init(
        eventLoop: EventLoop, configuration: RelayConfiguration, upstreamAddress: SocketAddress, table: RuleTable,
        plan: RecordPlan, telemetry: Telemetry, hostName: String, loopIndex: Int,
        connector: UpstreamPool.Connector? = nil
    ) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.pool = UpstreamPool(
            eventLoop: eventLoop, configuration: configuration, address: upstreamAddress, connector: connector)
        self.table = table
        self.unretainedTable = Unmanaged.passUnretained(table)
        self.plan = plan
        self.telemetry = telemetry
        self.recorder = StatsRecorder(store: telemetry.stats)
        self.hostName = hostName
        upstreamAuthority = configuration.upstreamAuthority
        var generator = SystemRandomNumberGenerator()
        requestIDPrefix = String(generator.next() & 0xFFFF_FFFF, radix: 16) + "-\(loopIndex)-"
        logBatch.reserveCapacity(64 * 1024)
    }

    func replaceTable(_ table: RuleTable, plan: RecordPlan) {
        self.table = table
        self.plan = plan
        recorder.keepOnly(plan)
    }

    /// The number of a new request: with `requestIDPrefix`, an id unique per process, cheap (no
    /// randomness or string per request).
    func nextRequestNumber() -> UInt64 {
        requestCounter &+= 1
        return requestCounter
    }

    /// The id of the request with `number`.
    func requestID(_ number: UInt64) -> RequestID {
        RequestID(prefix: requestIDPrefix, number: number)
    }

    // MARK: Access log and statistics

    var logsJSON: Bool { telemetry.logFormat == .json }

    /// Appends one access-log line (the rendered template, or in JSON the whole entry).
    func log(_ entry: AccessLogEntry) {
        switch telemetry.logFormat {
        case .text:
            logBatch.append(contentsOf: entry.message)
        case .json:
            jsonWriter.reset()
            entry.writeJSON(to: &jsonWriter)
            logBatch.append(contentsOf: jsonWriter.bytes)
        }
        logBatch.append(UInt8(ascii: "\n"))
        logLines += 1
        if logBatch.count >= 64 * 1024 { flushLog() } else { scheduleFlush() }
    }

    /// Records a finished exchange under `key` for the rule in `slot`.
    func record(
        slot: Int32, key: [UInt8], method: UnsafeRawBufferPointer, status: Int, durationNanoseconds: Int64,
        upstreamNanoseconds: Int64?, epochNanoseconds: Int64
    ) {
        let full = recorder.record(
            slot: slot, key: key, method: method, status: status, durationNanoseconds: durationNanoseconds,
            upstreamNanoseconds: upstreamNanoseconds, epochNanoseconds: epochNanoseconds)
        if full { recorder.flush() } else { scheduleFlush() }
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.flushInterval) { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// Hands the pending log lines to the writer and the pending statistics to the store.
    func flush() {
        flushLog()
        recorder.flush()
    }

    private func flushLog() {
        guard !logBatch.isEmpty else { return }
        telemetry.accessLog.write(logBatch, lines: logLines)
        logBatch.removeAllKeepingCapacity()
        logLines = 0
    }

    // MARK: Head buffers

    /// The buffer the last head was written into. Once the channel has written it to the socket
    /// the storage is ours alone again, and the next head (on any connection of this loop) is
    /// written into it without allocating; if it is still queued, `clear()` makes a new one.
    private var spareHeadBuffer: ByteBuffer?

    /// An empty buffer for a head of about `capacity` bytes.
    func headBuffer(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var buffer = spareHeadBuffer else { return allocator.buffer(capacity: max(capacity, 1024)) }
        spareHeadBuffer = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Hands back a head buffer after writing it (keeping a reference; small ones only).
    func keepHeadBuffer(_ buffer: ByteBuffer) {
        if buffer.capacity <= 16 * 1024 { spareHeadBuffer = buffer }
    }

    // MARK: Connections

    func clientOpened(_ client: ClientHandler) {
        clients[ObjectIdentifier(client)] = client
        telemetry.metrics.connectionOpened()
    }

    func clientClosed(_ client: ClientHandler) {
        guard clients.removeValue(forKey: ObjectIdentifier(client)) != nil else { return }
        telemetry.metrics.connectionClosed()
    }

    /// Stops keep-alive on this loop: idle connections close now, busy ones after their exchange.
    func startDraining() {
        draining = true
        for client in Array(clients.values) { client.drain() }
        pool.closeAll()
    }
}
