import AttacheRules
import NIOCore

/// One request and its response, from the parsed request head to the end of the response.
final class Exchange {
    let head: HTTPHead
    /// The request head's bytes (a slice of what the client sent); `head` holds offsets into it.
    let headBytes: ByteBuffer
    /// The table the exchange started with: a reload never changes the rules mid-exchange.
    let table: RuleTable
    let start: NIODeadline
    let requestID: String
    /// The path rules see, when normalizing changed it (otherwise it is in `headBytes`).
    let normalizedPath: [UInt8]?
    /// Where the path is in the target (origin-form or absolute-form).
    let pathRange: Range<Int32>
    let isHeadRequest: Bool
    let upgradeRequested: Bool

    var requestFramer: BodyFramer
    var requestComplete: Bool
    /// Request body bytes the rules answered without: read and dropped.
    var discardRequestBody = false
    /// Body bytes received before the upstream connection was ready.
    var pendingBody: ByteBuffer?

    var upstream: UpstreamHandler?
    var connecting = false
    var retried = false
    var sentContinue = false

    /// The response head went to the client (pass-through or rendered).
    var responseStarted = false
    var responseComplete = false
    /// The upstream's chunked body is decoded for an HTTP/1.0 client.
    var dechunker: BodyFramer?
    var status = 0
    var origin = Origin.proxy
    var respondingRule: String?
    var firstResponseByte: NIODeadline?

    init(
        head: HTTPHead, headBytes: ByteBuffer, table: RuleTable, start: NIODeadline, requestID: String,
        normalizedPath: [UInt8]?, pathRange: Range<Int32>, isHeadRequest: Bool, upgradeRequested: Bool
    ) {
        self.head = head
        self.headBytes = headBytes
        self.table = table
        self.start = start
        self.requestID = requestID
        self.normalizedPath = normalizedPath
        self.pathRange = pathRange
        self.isHeadRequest = isHeadRequest
        self.upgradeRequested = upgradeRequested
        requestFramer = BodyFramer(BodyFraming.request(head))
        requestComplete = requestFramer.isComplete
    }
}
