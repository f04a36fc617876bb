import NIOCore

/// The life of one upstream connection, without any channel: it takes the bytes the upstream
/// sends and the events around them, and says what to do. `UpstreamHandler` feeds it and
/// carries out its actions; the tests drive it with plain byte buffers.
///
/// Bytes are buffered only while a head is incomplete; bodies leave as slices of what arrived.
struct UpstreamConnectionStateMachine {
    enum State {
        /// In the pool, or waiting for its first request.
        case idle
        case awaitingHead
        /// Reading the body, framed by `framer`.
        case body
        /// The response was replaced by a rule: the rest of its body is read and dropped.
        case discarding
        case tunnel
        case closed
    }

    enum Action {
        /// Nothing more to do until the next event.
        case wait
        /// A 1xx head, as bytes; what was parsed from them is `head`.
        case interimResponse(ByteBuffer)
        /// The response head, as bytes; what was parsed from them is `head` (until the next
        /// call). Kept out of the action: an action that carries it is copied with `memcpy` at
        /// every step.
        case response(ByteBuffer, BodyFraming)
        case body(ByteBuffer)
        /// The response ended; reuse the connection if `reusable`, else close it.
        case responseEnded(reusable: Bool)
        /// A discarded response's body ended.
        case discarded(reusable: Bool)
        /// Close the connection and report this to the exchange.
        case fail(UpstreamFailure)
        /// Close the connection; nobody needs telling.
        case close
        case tunnelData(ByteBuffer)
        case tunnelInputClosed
    }

    /// Responses whose rest is at most this long are drained to keep the connection; longer
    /// ones (or unknown lengths) cost more than a new connection, so it is closed.
    static let maximumDrainBytes: Int64 = 64 * 1024

    private(set) var state = State.idle
    /// The body's framing in `.body` and `.discarding`. Kept beside the state rather than in
    /// it: a state carrying it was copied out and back on every step.
    private var framer = BodyFramer(.none)
    private var buffer: ByteBuffer?
    private var parser: HeadParser
    /// The response head being parsed, or the last one parsed.
    private(set) var head = HTTPHead()
    private var requestWasHead = false
    private var requestSent = false
    private var keepAlive = true
    /// Exchanges this connection has served (a reused one may have been closed while idle).
    private(set) var exchanges = 0
    /// Whether any byte of the current response arrived.
    private(set) var receivedResponseBytes = false

    init(limits: HeadLimits) {
        parser = HeadParser(limits: limits)
    }

    /// Whether a response timeout should be running: waiting for a head once the request is
    /// out, or between reads of a body.
    var wantsTimer: Bool {
        switch state {
        case .awaitingHead: return requestSent
        case .body, .discarding: return true
        case .idle, .tunnel, .closed: return false
        }
    }

    // MARK: Events

    /// A request is about to be written.
    mutating func begin(requestWasHead: Bool) {
        self.requestWasHead = requestWasHead
        requestSent = false
        receivedResponseBytes = false
        keepAlive = true
        state = .awaitingHead
        parser.reset()
        exchanges += 1
        buffer = nil
    }

    mutating func requestComplete() {
        requestSent = true
    }

    /// Bytes from the upstream; call `nextAction` until it says `.wait`.
    /// Consumed: the read's buffer is kept as it comes, without a retain here and a release in
    /// the handler.
    mutating func received(_ bytes: consuming ByteBuffer) {
        switch state {
        case .awaitingHead:
            receivedResponseBytes = true
            fallthrough
        case .body, .discarding, .idle:
            if buffer == nil {
                buffer = bytes
            } else {
                buffer!.writeBuffer(&bytes)
            }
        case .tunnel:
            buffer = bytes
        case .closed:
            break
        }
    }

    /// The exchange no longer wants this response (a rule replaced it).
    mutating func discard() -> Action {
        guard case .body = state, keepAlive, requestSent else { return closing() }
        switch framer.framing {
        case .length(let length) where length <= Self.maximumDrainBytes:
            state = .discarding
        case .chunked:
            state = .discarding
        case .none:
            return finish(discarded: true)
        default:
            return closing()
        }
        return .wait
    }

    mutating func startTunnel() {
        state = .tunnel
    }

    /// The upstream closed its side (or the connection).
    mutating func inputClosed() -> Action {
        switch state {
        case .awaitingHead:
            state = .closed
            return .fail(.closedBeforeResponse)
        case .body:
            state = .closed
            return framer.framing == .untilClose
                ? .responseEnded(reusable: false) : .fail(.failedMidBody("connection closed before the end of the body"))
        case .tunnel:
            return .tunnelInputClosed
        case .idle, .discarding:
            return closing()
        case .closed:
            return .wait
        }
    }

    mutating func timedOut() -> Action {
        switch state {
        case .awaitingHead:
            state = .closed
            return .fail(.timeout)
        case .body:
            state = .closed
            return .fail(.failedMidBody("the upstream stopped sending"))
        case .discarding:
            return closing()
        case .idle, .tunnel, .closed:
            return .wait
        }
    }

    mutating func closed() {
        state = .closed
        buffer = nil
    }

    // MARK: Working through buffered bytes

    mutating func nextAction() -> Action {
        switch state {
        case .idle:
            // An idle upstream has nothing to say; whatever it sends makes it unusable.
            guard buffer != nil else { return .wait }
            return closing()
        case .closed:
            buffer = nil
            return .wait
        case .tunnel:
            guard let bytes = buffer.take() else { return .wait }
            return .tunnelData(bytes)
        case .awaitingHead:
            return parseHead()
        case .body:
            if framer.isComplete && framer.framing != .untilClose { return finish(discarded: false) }
            // Taken (moved), not copied: a copy retains the storage, and when the framer takes
            // all of it (the usual case) the buffer itself goes on instead of a slice of it.
            guard var bytes = buffer.take() else { return .wait }
            let progress = bytes.withUnsafeReadableBytes { framer.consume($0) }
            switch progress {
            case .more(let count):
                if count > 0, count == bytes.readableBytes { return .body(bytes) }
                return count > 0 ? .body(bytes.readSlice(length: count)!) : .wait
            case .finished(let count):
                if count > 0, count == bytes.readableBytes { return .body(bytes) }
                // More bytes than the response: the upstream is out of step; never reuse it.
                if bytes.readableBytes > count { keepAlive = false }
                if count > 0 {
                    // Deliver the last slice; the next call ends the response.
                    return .body(bytes.readSlice(length: count)!)
                }
                return finish(discarded: false)
            case .invalid(let reason):
                state = .closed
                return .fail(.failedMidBody(reason))
            }
        case .discarding:
            if framer.isComplete { return finish(discarded: true) }
            guard let bytes = buffer.take() else { return .wait }
            let progress = bytes.withUnsafeReadableBytes { framer.consume($0) }
            switch progress {
            case .more:
                return .wait
            case .finished(let count):
                if count < bytes.readableBytes { keepAlive = false }
                return finish(discarded: true)
            case .invalid:
                return closing()
            }
        }
    }

    private mutating func parseHead() -> Action {
        // Read in place: `let bytes = buffer` would retain and release its storage.
        guard let outcome = buffer?.withUnsafeReadableBytes({ parser.parseResponse($0, into: &head) }) else {
            return .wait
        }
        switch outcome {
        case .incomplete:
            return .wait
        case .invalid(let error):
            state = .closed
            buffer = nil
            return .fail(.malformedResponse(error.detail))
        case .complete:
            let headBytes = buffer!.readSlice(length: head.length)!
            parser.reset()
            if buffer!.readableBytes == 0 { buffer = nil }
            if head.status < 200 && head.status != 101 {
                return .interimResponse(headBytes)
            }
            keepAlive = head.keepsAlive && head.status != 101
            let framing = BodyFraming.response(head, requestWasHead: requestWasHead)
            if head.status == 101 {
                state = .tunnel
            } else {
                framer = BodyFramer(framing)
                state = .body
            }
            return .response(headBytes, framing)
        }
    }

    private mutating func finish(discarded: Bool) -> Action {
        let reusable = keepAlive && requestSent && buffer == nil
        state = reusable ? .idle : .closed
        buffer = nil
        return discarded ? .discarded(reusable: reusable) : .responseEnded(reusable: reusable)
    }

    private mutating func closing() -> Action {
        state = .closed
        buffer = nil
        return .close
    }
}
