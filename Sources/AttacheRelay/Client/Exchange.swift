import AttacheRules
import AttacheTelemetry
import NIOCore

/// What the handler needs about the exchange in progress besides its state (which the
/// `ClientConnectionStateMachine` keeps): the request head, the rules it runs on, the upstream
/// connection and the facts the access log and statistics report.
///
/// A connection reuses its finished exchange for the next one (`begin` again), so a warm
/// connection starts exchanges without allocating.
final class Exchange {
    private(set) var head = HTTPHead()
    /// The request head's bytes (a slice of what the client sent); `head` holds offsets into it.
    private(set) var headBytes = ByteBuffer()
    /// The table the exchange started with: a reload never changes the rules mid-exchange.
    private(set) var table: RuleTable
    /// Where the table's `record` actions go.
    private(set) var plan: RecordPlan
    private(set) var start = NIODeadline.uptimeNanoseconds(0)
    /// The loop's number for the request: with the loop's prefix, its `RequestID` (kept apart so
    /// beginning an exchange does not retain and release the prefix string).
    private(set) var requestNumber: UInt64 = 0
    /// The path rules see, when normalizing changed it (otherwise it is in `headBytes`).
    private(set) var normalizedPath: [UInt8]?
    /// Where the path is in the target (origin-form or absolute-form).
    private(set) var pathRange: Range<Int32> = 0..<0
    private(set) var isHeadRequest = false
    private(set) var upgradeRequested = false
    private(set) var hasBody = false

    /// Body bytes received before the upstream connection was ready.
    var pendingBody: ByteBuffer?
    /// The whole request body has been read (and passed on, if forwarded).
    var requestEnded = false
    var upstream: UpstreamHandler?
    var retried = false
    var sentContinue = false
    /// The upstream's chunked body is decoded for an HTTP/1.0 client.
    var dechunker: BodyFramer?
    var status = 0
    var origin = Origin.proxy
    var respondingRule: String?
    var firstResponseByte: NIODeadline?

    /// An exchange not begun yet: `begin` gives it its request. `plan` is `table`'s.
    init(table: RuleTable, plan: RecordPlan) {
        self.table = table
        self.plan = plan
    }

    /// Makes this the exchange of a new request. Every property is set again (the table and its
    /// plan when the table changed), so a finished exchange begins the next one exactly as a new
    /// one would (`ExchangeTests` compares them).
    func begin(
        head: consuming HTTPHead, headBytes: ByteBuffer, table: RuleTable, plan: @autoclosure () -> RecordPlan,
        start: NIODeadline, requestNumber: UInt64,
        normalizedPath: [UInt8]?, pathRange: Range<Int32>, isHeadRequest: Bool, upgradeRequested: Bool,
        requestEnded: Bool
    ) {
        hasBody = BodyFraming.request(head) != .none
        self.head = head
        self.headBytes = headBytes
        // Usually the same table as last time: assigning it (and its plan, which changes with
        // it) anyway retains and releases them.
        if self.table !== table {
            self.table = table
            self.plan = plan()
        }
        self.start = start
        self.requestNumber = requestNumber
        self.normalizedPath = normalizedPath
        self.pathRange = pathRange
        self.isHeadRequest = isHeadRequest
        self.upgradeRequested = upgradeRequested
        pendingBody = nil
        self.requestEnded = requestEnded
        upstream = nil
        retried = false
        sentContinue = false
        dechunker = nil
        status = 0
        origin = .proxy
        respondingRule = nil
        firstResponseByte = nil
    }

    /// Lends the head and its bytes in place. Reading them as properties copies them for the
    /// call (a retain and release of the field array and of the bytes' storage); an `inout`
    /// access is exclusive, so the callee reads the stored values themselves.
    func withHead<Result>(_ body: (inout HTTPHead, inout ByteBuffer) -> Result) -> Result {
        body(&head, &headBytes)
    }

    /// Moves the head out (its field storage serves the next parse) once the exchange is done.
    func takeHead() -> HTTPHead {
        var taken = HTTPHead()
        swap(&taken, &head)
        headBytes = ByteBuffer()
        return taken
    }
}
