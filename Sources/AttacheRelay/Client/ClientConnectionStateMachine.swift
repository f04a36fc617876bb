import AttacheRules
import NIOCore

/// The life of one client connection, without any channel: it takes the client's bytes and the
/// events of the exchange in progress, and says what to do. `ClientHandler` feeds it and carries
/// out its actions (evaluating rules, talking to the upstream, writing); the tests drive it with
/// plain byte buffers.
///
/// One exchange at a time: pipelined requests wait in the input buffer until the response
/// before them is complete, which keeps responses in order (RFC 9112 §9.3.2).
struct ClientConnectionStateMachine {
    enum State: Equatable {
        /// Waiting for (or reading) a request head.
        case head
        case exchange
        case tunnel
        /// Finishing writes before closing.
        case closing
        case closed
    }

    enum TimerKind: Equatable {
        /// No request in progress on a kept-alive connection.
        case idle
        /// A request head has started (or the connection is new) and must complete.
        case head
    }

    enum Action {
        case wait
        /// A complete request head, as bytes; `takeRequestHead` hands over what was parsed from
        /// them. Evaluate the rules, then answer or forward it. (The parsed head stays out of
        /// the action: an action that carries it is copied with `memcpy` at every step.) A
        /// request without a body is complete with its head (`requestComplete`): no
        /// `requestEnded` follows.
        case startExchange(ByteBuffer)
        /// Request body bytes for the upstream.
        case requestBody(ByteBuffer)
        /// The request body ended.
        case requestEnded
        /// A malformed or too-slow head: answer with its status (`nil`: 408) and close.
        case reject(HeadError?)
        /// A request body could not be framed after its head was answered or forwarded.
        case bodyFailed(String)
        /// Both directions are done: log it; then go on (`keepAlive`) or close after writes.
        case exchangeFinished(keepAlive: Bool)
        case tunnelData(ByteBuffer)
        /// Close at once, dropping unwritten bytes (the response must be seen cut short).
        case abort
        /// Close quietly (nothing in progress).
        case close
    }

    /// What the response head sent to the client says about framing.
    struct ResponsePlan: Equatable {
        /// Keep `Transfer-Encoding: chunked` and forward the chunks as they are.
        var chunked = false
        /// Decode the upstream's chunks (HTTP/1.0 client).
        var dechunk = false
        var connection: HeadWriter.ConnectionField = .none
    }

    /// A few flags, copied in and out freely; the request body's framer is kept beside it
    /// (`requestFramer`), since a struct carrying it was copied out and back on every step.
    private struct Exchange {
        var requestComplete: Bool
        var responseStarted = false
        var responseComplete = false
        var discardBody = false
        var version: HTTPHead.Version
        var expectContinue: Bool
        var sentContinue = false
        var requestEndReported = false
    }

    private(set) var state = State.head
    /// Cleared once the connection must close after the current exchange.
    private(set) var keepAlive = true
    private(set) var draining = false
    private var inbound: ByteBuffer?
    private var parser: HeadParser
    private var exchange: Exchange?
    /// The request body's framing while there is an exchange.
    private var requestFramer = BodyFramer(.none)
    /// Request bodies answered without the upstream are read and dropped up to this size;
    /// longer ones end the connection instead.
    static let maximumDiscardedBody: Int64 = 64 * 1024
    let maximumBufferedBytes: Int

    init(limits: HeadLimits, maximumBufferedBytes: Int) {
        parser = HeadParser(limits: limits)
        self.maximumBufferedBytes = maximumBufferedBytes
    }

    // MARK: Queries

    /// The timer that should be running now.
    var timer: TimerKind? {
        guard state == .head else { return nil }
        if (inbound?.readableBytes ?? 0) > 0 || !hadExchange { return .head }
        return .idle
    }

    /// Whether reading from the client should pause: too much is buffered already.
    var shouldPauseReads: Bool {
        (inbound?.readableBytes ?? 0) > maximumBufferedBytes
    }

    var responseStarted: Bool { exchange?.responseStarted ?? false }
    var responseComplete: Bool { exchange?.responseComplete ?? false }
    var requestComplete: Bool { exchange?.requestComplete ?? true }
    private var hadExchange: Bool { exchangesStarted > 0 }
    /// The head being parsed, or the one `startExchange` announced until it is taken; its
    /// field storage serves the next parse once recycled.
    private var head = HTTPHead()
    /// Exchanges begun on this connection: a timer of the same kind restarts when it changes.
    private(set) var exchangesStarted = 0

    // MARK: Events

    /// Bytes from the client; call `nextAction` until it says `.wait`.
    /// Consumed: the read's buffer is kept as it comes, without a retain here and a release in
    /// the handler.
    mutating func received(_ bytes: consuming ByteBuffer) {
        switch state {
        case .head, .exchange, .tunnel:
            if inbound == nil {
                inbound = bytes
            } else {
                inbound!.writeBuffer(&bytes)
            }
        case .closing, .closed:
            break
        }
    }

    /// The exchange was answered by attache itself (a rule or an error), head and body written.
    /// An unread request body is then dropped if short, else the connection will close.
    mutating func respondedLocally() {
        guard var exchange else { return }
        exchange.responseStarted = true
        exchange.responseComplete = true
        if !exchange.requestComplete {
            exchange.discardBody = true
            let short: Bool
            if case .length(let length) = requestFramer.framing, length <= Self.maximumDiscardedBody {
                short = true
            } else {
                short = false
            }
            // A client that was told to go on (100 Continue) sends a body we no longer want.
            if !short || exchange.sentContinue || exchange.expectContinue { keepAlive = false }
        }
        self.exchange = exchange
    }

    /// The connection closes after the current exchange (a request attache refused after its
    /// head was read).
    mutating func disableKeepAlive() {
        keepAlive = false
    }

    /// attache answered `Expect: 100-continue` itself.
    mutating func sentContinue() {
        exchange?.sentContinue = true
    }

    /// The upstream's response head is about to go out: how to frame it for this client.
    mutating func planResponse(_ framing: BodyFraming) -> ResponsePlan {
        guard var exchange else { return ResponsePlan() }
        var plan = ResponsePlan()
        switch framing {
        case .chunked:
            if exchange.version == .http11 {
                plan.chunked = true
            } else {
                // HTTP/1.0 has no chunked coding: decode, and let the close end the body.
                plan.dechunk = true
                keepAlive = false
            }
        case .untilClose:
            keepAlive = false
        case .none, .length:
            break
        }
        // The upstream answered before the request body ended: the rest of the body would be
        // read as a new request, so this connection cannot continue.
        if !exchange.requestComplete { keepAlive = false }
        plan.connection = connectionField
        exchange.responseStarted = true
        self.exchange = exchange
        return plan
    }

    /// The `Connection` field a response on this connection carries now.
    var connectionField: HeadWriter.ConnectionField {
        if !keepAlive || draining { return .close }
        return exchange?.version == .http10 ? .keepAlive : .none
    }

    /// A 101 went to the client: from now on bytes pass through untouched.
    mutating func startTunnel() {
        state = .tunnel
        exchange?.responseStarted = true
    }

    /// The response (from the upstream) is complete.
    mutating func responseEnded() {
        guard var exchange else { return }
        exchange.responseComplete = true
        if !exchange.requestComplete {
            keepAlive = false
            // Nothing more of this request will be read: finish now.
            exchange.requestComplete = true
            exchange.requestEndReported = true
        }
        self.exchange = exchange
    }

    /// The upstream failed. Before the response started attache answers (502/504) and the
    /// exchange goes on; after, the client must see the response cut short.
    mutating func upstreamFailed() -> Action {
        guard let exchange else { return .wait }
        if exchange.responseStarted {
            state = .closed
            return .abort
        }
        if !exchange.requestComplete { keepAlive = false }
        return .wait
    }

    /// The client closed its side. In a tunnel that is passed on; while waiting for a response
    /// it means the client gave up (like nginx: the exchange is abandoned).
    mutating func inputClosed() -> Action {
        switch state {
        case .tunnel:
            return .wait
        case .head:
            if exchange == nil && (inbound?.readableBytes ?? 0) == 0 {
                state = .closed
                return .close
            }
            keepAlive = false
            return .wait
        case .exchange:
            state = .closed
            return .abort
        case .closing, .closed:
            return .wait
        }
    }

    mutating func timerFired(_ kind: TimerKind) -> Action {
        guard state == .head, exchange == nil else { return .wait }
        if kind == .head, let inbound, inbound.readableBytes > 0 {
            keepAlive = false
            self.inbound = nil
            state = .closing
            return .reject(nil)
        }
        state = .closed
        return .close
    }

    /// SIGTERM: no keep-alive from now on; an idle connection closes now.
    mutating func drain() -> Action {
        draining = true
        keepAlive = false
        if state == .head, exchange == nil, (inbound?.readableBytes ?? 0) == 0 {
            state = .closed
            return .close
        }
        return .wait
    }

    /// The handler is closing the connection (after an abort, an error, or the client leaving).
    mutating func closed() {
        state = .closed
        inbound = nil
    }

    // MARK: Working through buffered bytes

    mutating func nextAction(table: RuleTable?) -> Action {
        switch state {
        case .closing, .closed:
            inbound = nil
            return .wait
        case .tunnel:
            guard let bytes = inbound, bytes.readableBytes > 0 else { return .wait }
            inbound = nil
            return .tunnelData(bytes)
        case .head:
            return parseHead(table: table)
        case .exchange:
            guard var exchange else { return .wait }
            if exchange.requestComplete {
                if !exchange.requestEndReported {
                    exchange.requestEndReported = true
                    self.exchange = exchange
                    return .requestEnded
                }
                guard exchange.responseComplete else { return .wait }
                return finishExchange()
            }
            guard var buffer = inbound, buffer.readableBytes > 0 else { return .wait }
            let progress = buffer.withUnsafeReadableBytes { requestFramer.consume($0) }
            let count: Int
            switch progress {
            case .more(let taken):
                count = taken
            case .finished(let taken):
                count = taken
                exchange.requestComplete = true
            case .invalid(let reason):
                keepAlive = false
                inbound = nil
                if exchange.responseStarted {
                    self.exchange = exchange
                    state = .closed
                    return .abort
                }
                // Nothing more of this request will be read; once answered, the connection closes.
                exchange.requestComplete = true
                exchange.requestEndReported = true
                self.exchange = exchange
                return .bodyFailed(reason)
            }
            let body = buffer.readSlice(length: count)!
            inbound = buffer.readableBytes > 0 ? buffer : nil
            let discard = exchange.discardBody
            self.exchange = exchange
            if count > 0 && !discard { return .requestBody(body) }
            // The end (if reached) is reported by the next call.
            return exchange.requestComplete ? nextAction(table: table) : .wait
        }
    }

    private mutating func parseHead(table: RuleTable?) -> Action {
        // Read in place: `let buffer = inbound` would retain and release its storage.
        guard let readable = inbound?.readableBytes, readable > 0 else {
            inbound = nil
            return .wait
        }
        // The field list of an earlier head is reused (see `recycle`): a warm connection parses
        // without allocating.
        // Through `?.`, not `unsafelyUnwrapped` (which copied the buffer: a retain and a release).
        guard let outcome = inbound?.withUnsafeReadableBytes({ parser.parseRequest($0, into: &head, table: table) })
        else { return .wait }
        switch outcome {
        case .incomplete:
            return .wait
        case .invalid(let error):
            keepAlive = false
            inbound = nil
            state = .closing
            return .reject(error)
        case .complete:
            parser.reset()
            // Usually the read held this head and nothing more: the buffer itself goes on.
            let headBytes: ByteBuffer
            if readable == head.length {
                headBytes = inbound.take()!
            } else {
                headBytes = inbound!.readSlice(length: head.length)!
            }
            requestFramer = BodyFramer(BodyFraming.request(head))
            // A request without a body is complete with its head: no `requestEnded` follows.
            let complete = requestFramer.isComplete
            exchange = Exchange(
                requestComplete: complete, version: head.version, expectContinue: head.expectContinue,
                requestEndReported: complete)
            exchangesStarted &+= 1
            if !head.keepsAlive || draining { keepAlive = false }
            state = .exchange
            return .startExchange(headBytes)
        }
    }

    /// The head `startExchange` announced, moved out of the machine.
    mutating func takeRequestHead() -> HTTPHead {
        var taken = HTTPHead()
        swap(&taken, &head)
        return taken
    }

    /// Takes back the head of a finished exchange, so its field storage serves the next request
    /// (once the exchange holding it is gone, the storage is unique again and reused in place).
    mutating func recycle(_ head: HTTPHead) {
        self.head = head
    }

    private mutating func finishExchange() -> Action {
        exchange = nil
        if keepAlive && !draining {
            state = .head
            return .exchangeFinished(keepAlive: true)
        }
        keepAlive = false
        state = .closing
        inbound = nil
        return .exchangeFinished(keepAlive: false)
    }
}
