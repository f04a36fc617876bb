import NIOCore

/// One connection to the upstream. It writes the requests the client side gives it, frames the
/// responses (head parsed in place, body forwarded as slices) and hands them to its delegate;
/// between exchanges it waits in its loop's `UpstreamPool`.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case awaitingHead
        case body(BodyFramer)
        /// The response was replaced by a rule: read the rest and drop it, then go back to the pool.
        case discarding(BodyFramer)
        case tunnel
        case closed
    }

    /// Responses whose rest is at most this long are drained to keep the connection; longer
    /// ones (or unknown lengths) cost more than a new connection, so it is closed.
    static let maximumDrainBytes: Int64 = 64 * 1024

    private var state = State.idle
    private(set) var context: ChannelHandlerContext?
    weak var delegate: UpstreamDelegate?
    unowned let pool: UpstreamPool
    private var buffer: ByteBuffer?
    private var parser: HeadParser
    private var head = HTTPHead()
    private var requestWasHead = false
    private var requestSent = false
    /// Whether this connection served an exchange before (a reused connection may have been
    /// closed by the upstream while idle).
    private(set) var exchanges = 0
    /// Whether any byte of the current response arrived.
    private(set) var receivedResponseBytes = false
    private var keepAlive = true
    private var timer: Scheduled<Void>?
    private var readPaused = false
    private var readPending = false

    init(pool: UpstreamPool, limits: HeadLimits) {
        self.pool = pool
        self.parser = HeadParser(limits: limits)
    }

    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    // MARK: Driven by the client side

    /// Starts an exchange: the caller writes the request next.
    func begin(delegate: UpstreamDelegate, requestWasHead: Bool) {
        self.delegate = delegate
        self.requestWasHead = requestWasHead
        requestSent = false
        receivedResponseBytes = false
        keepAlive = true
        state = .awaitingHead
        parser.reset()
        exchanges += 1
        // Bytes that arrived while the connection sat idle are not a response to this request.
        buffer = nil
        // The previous client may have paused reads to slow this connection down.
        resumeReads()
    }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    /// The whole request is written: the response timeout starts.
    func requestComplete() {
        requestSent = true
        if case .awaitingHead = state { armTimer() }
    }

    /// The client side will not use this exchange's response (a rule replaced it): drop the
    /// rest of the body if it is short, else close.
    func discardResponse() {
        delegate = nil
        switch state {
        case .body(let framer):
            guard keepAlive, requestSent else { return close() }
            switch framer.framing {
            case .length(let length) where length <= Self.maximumDrainBytes:
                state = .discarding(framer)
                armTimer()
                drainBuffered()
            case .chunked:
                state = .discarding(framer)
                armTimer()
                drainBuffered()
            default:
                close()
            }
        default:
            close()
        }
    }

    /// The client went away or the exchange failed: this connection's state is unknown.
    func abandon() {
        delegate = nil
        close()
    }

    /// Switches to a byte tunnel after a 101.
    func startTunnel() {
        state = .tunnel
        timer?.cancel()
        timer = nil
    }

    func closeOutput() {
        context?.close(mode: .output, promise: nil)
    }

    func close() {
        if case .closed = state { return }
        state = .closed
        timer?.cancel()
        timer = nil
        context?.close(promise: nil)
    }

    func pauseReads() {
        readPaused = true
    }

    func resumeReads() {
        guard readPaused else { return }
        readPaused = false
        if readPending {
            readPending = false
            context?.read()
        }
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func read(context: ChannelHandlerContext) {
        if readPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .idle:
            // An idle upstream has nothing to say; whatever it sends makes it unusable.
            close()
        case .closed:
            break
        case .tunnel:
            delegate?.upstreamTunnelData(bytes)
        case .awaitingHead:
            receivedResponseBytes = true
            if buffer == nil {
                buffer = bytes
            } else {
                buffer!.writeBuffer(&bytes)
            }
            parseHeads()
        case .body, .discarding:
            if buffer == nil {
                buffer = bytes
            } else {
                buffer!.writeBuffer(&bytes)
            }
            forwardBody()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            switch state {
            case .tunnel:
                delegate?.upstreamTunnelInputClosed()
            default:
                endOfInput()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        switch state {
        case .tunnel:
            let delegate = self.delegate
            state = .closed
            delegate?.upstreamTunnelInputClosed()
        case .closed:
            break
        default:
            endOfInput()
            state = .closed
        }
        pool.remove(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and the like: channelInactive follows and reports to the delegate.
        context.close(promise: nil)
    }

    // MARK: Responses

    /// The upstream closed its side: a close-delimited body ends here; anything else was cut off.
    private func endOfInput() {
        let delegate = self.delegate
        switch state {
        case .awaitingHead:
            state = .closed
            self.delegate = nil
            delegate?.upstreamFailed(.closedBeforeResponse)
        case .body(let framer):
            state = .closed
            self.delegate = nil
            if framer.framing == .untilClose {
                delegate?.upstreamResponseEnd()
            } else {
                delegate?.upstreamFailed(.failedMidBody("connection closed before the end of the body"))
            }
        case .discarding:
            state = .closed
        case .idle, .tunnel, .closed:
            break
        }
        context?.close(promise: nil)
    }

    private func parseHeads() {
        while case .awaitingHead = state, let bytes = buffer {
            let outcome = bytes.withUnsafeReadableBytes { parser.parseResponse($0, into: &head) }
            switch outcome {
            case .incomplete:
                return
            case .invalid(let error):
                let delegate = self.delegate
                self.delegate = nil
                close()
                delegate?.upstreamFailed(.malformedResponse(error.detail))
                return
            case .complete:
                timer?.cancel()
                timer = nil
                let headBytes = buffer!.readSlice(length: head.length)!
                parser.reset()
                if buffer!.readableBytes == 0 { buffer = nil }
                if head.status < 200 && head.status != 101 {
                    delegate?.upstreamInterimResponse(head, bytes: headBytes)
                    if requestSent { armTimer() }
                    continue
                }
                keepAlive = head.keepsAlive && head.status != 101
                let framing = BodyFraming.response(head, requestWasHead: requestWasHead)
                state = .body(BodyFramer(framing))
                delegate?.upstreamResponse(head, bytes: headBytes, framing: framing)
                if head.status == 101 { return }
                armTimer()
                forwardBody()
            }
        }
    }

    /// Hands the buffered body bytes to the delegate (or drops them when discarding).
    private func forwardBody() {
        guard case .body(var framer) = state else {
            if case .discarding = state { drainBuffered() }
            return
        }
        if framer.isComplete && framer.framing != .untilClose {
            finishResponse()
            return
        }
        guard var bytes = buffer else { return }
        buffer = nil
        let progress = bytes.withUnsafeReadableBytes { framer.consume($0) }
        state = .body(framer)
        switch progress {
        case .more(let count):
            armTimer()
            if count > 0 { delegate?.upstreamBody(bytes.readSlice(length: count)!) }
        case .finished(let count):
            if count > 0 { delegate?.upstreamBody(bytes.readSlice(length: count)!) }
            if bytes.readableBytes > 0 {
                // More bytes than the response: the upstream is out of step; never reuse it.
                keepAlive = false
            }
            finishResponse()
        case .invalid(let reason):
            let delegate = self.delegate
            self.delegate = nil
            close()
            delegate?.upstreamFailed(.failedMidBody(reason))
        }
    }

    private func drainBuffered() {
        guard case .discarding(var framer) = state else { return }
        if framer.isComplete {
            finishResponse()
            return
        }
        guard let bytes = buffer else { return }
        buffer = nil
        let progress = bytes.withUnsafeReadableBytes { framer.consume($0) }
        state = .discarding(framer)
        switch progress {
        case .more:
            armTimer()
        case .finished(let count):
            if count < bytes.readableBytes { keepAlive = false }
            finishResponse()
        case .invalid:
            close()
        }
    }

    private func finishResponse() {
        timer?.cancel()
        timer = nil
        let delegate = self.delegate
        self.delegate = nil
        let reusable = keepAlive && requestSent
        state = reusable ? .idle : .closed
        if reusable {
            pool.release(self)
        } else {
            context?.close(promise: nil)
        }
        delegate?.upstreamResponseEnd()
    }

    private func armTimer() {
        timer?.cancel()
        guard let context else { return }
        let timeout = pool.configuration.responseTimeout
        timer = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            self?.timedOut()
        }
    }

    private func timedOut() {
        timer = nil
        let delegate = self.delegate
        self.delegate = nil
        switch state {
        case .awaitingHead:
            close()
            delegate?.upstreamFailed(.timeout)
        case .body:
            close()
            delegate?.upstreamFailed(.failedMidBody("the upstream stopped sending"))
        default:
            close()
        }
    }
}
