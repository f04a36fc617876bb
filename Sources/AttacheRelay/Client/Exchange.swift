import AttacheRules
import AttacheTelemetry
import NIOCore

/// What the handler needs about the exchange in progress besides its state (which the
/// `ClientConnectionStateMachine` keeps): the request head, the rules it runs on, the upstream
/// connection and the facts the access log and statistics report.
final class Exchange {
    let head: HTTPHead
    /// The request head's bytes (a slice of what the client sent); `head` holds offsets into it.
    let headBytes: ByteBuffer
    /// The table the exchange started with: a reload never changes the rules mid-exchange.
    let table: RuleTable
    /// Where the table's `record` actions go.
    let plan: RecordPlan
    let start: NIODeadline
    let requestID: String
    /// The path rules see, when normalizing changed it (otherwise it is in `headBytes`).
    let normalizedPath: [UInt8]?
    /// Where the path is in the target (origin-form or absolute-form).
    let pathRange: Range<Int32>
    let isHeadRequest: Bool
    let upgradeRequested: Bool
    let hasBody: Bool

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

    init(
        head: HTTPHead, headBytes: ByteBuffer, table: RuleTable, plan: RecordPlan, start: NIODeadline, requestID: String,
        normalizedPath: [UInt8]?, pathRange: Range<Int32>, isHeadRequest: Bool, upgradeRequested: Bool
    ) {
        self.head = head
        self.headBytes = headBytes
        self.table = table
        self.plan = plan
        self.start = start
        self.requestID = requestID
        self.normalizedPath = normalizedPath
        self.pathRange = pathRange
        self.isHeadRequest = isHeadRequest
        self.upgradeRequested = upgradeRequested
        hasBody = BodyFraming.request(head) != .none
    }
}
