import AttacheRules
import NIOCore

/// One client connection. It parses request heads in place, applies the request-phase rules,
/// forwards requests to an upstream connection from its loop's pool (or answers them), relays
/// responses in request order, and tunnels bytes after an upgrade.
///
/// Reads are left on (auto-read) and only held back while the other side cannot take more,
/// so a steady stream of requests does not toggle read interest.
final class ClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Waiting for (or reading) a request head.
        case head
        case exchange
        case tunnel
        /// Finishing writes before closing.
        case closing
        case closed
    }

    enum TimerKind {
        case idle
        case head
    }

    let loop: LoopState
    var context: ChannelHandlerContext!
    var state = State.head
    /// Bytes received and not processed yet (a partial head, a body, pipelined requests).
    var inbound: ByteBuffer?
    var parser: HeadParser
    var exchange: Exchange?
    var clientAddress = "-"
    /// Cleared once this connection must close after the current exchange.
    var keepAlive = true
    var timer: Scheduled<Void>?
    var timerKind = TimerKind.head
    var readPaused = false
    var readPending = false
    var needsFlush = false
    /// Request bytes were written to the upstream since its last flush.
    var upstreamNeedsFlush = false
    /// Inside `channelRead`: `channelReadComplete` will flush, so writes wait for it.
    var inReadBurst = false

    init(loop: LoopState) {
        self.loop = loop
        self.parser = HeadParser(limits: loop.configuration.limits)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress?.ipAddress { clientAddress = address }
        loop.clients[ObjectIdentifier(self)] = self
        armTimer(.head)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        loop.clients[ObjectIdentifier(self)] = nil
        let previous = state
        state = .closed
        if let exchange {
            // The client is gone: release the upstream connection at once.
            exchange.upstream?.abandon()
            exchange.upstream = nil
            if previous != .tunnel && !exchange.responseComplete {
                exchange.status = exchange.responseStarted ? exchange.status : 499
                complete(exchange)
            }
            self.exchange = nil
        }
        context.fireChannelInactive()
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
        case .tunnel:
            guard let upstream = exchange?.upstream else { return }
            upstream.write(bytes)
            if !upstream.isWritable { pauseReads() }
        case .closing, .closed:
            break
        case .head, .exchange:
            if inbound == nil {
                inbound = bytes
            } else {
                inbound!.writeBuffer(&bytes)
            }
            inReadBurst = true
            process()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        if state == .tunnel {
            exchange?.upstream?.flush()
        } else {
            flushUpstreamIfNeeded()
        }
        flushIfNeeded()
    }

    /// Flushes request bytes written to the upstream, unless a read burst is still going on
    /// (then `channelReadComplete` does it once for the whole burst).
    func flushUpstreamIfNeeded(force: Bool = true) {
        guard upstreamNeedsFlush, force || !inReadBurst else { return }
        upstreamNeedsFlush = false
        exchange?.upstream?.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstream?.resumeReads() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .tunnel:
            exchange?.upstream?.closeOutput()
        case .head where exchange == nil && (inbound?.readableBytes ?? 0) == 0:
            close()
        case .exchange:
            // Like nginx, a client that closes its side while waiting has given up (logged as
            // 499): the upstream connection is released at once rather than left to time out.
            abort()
        default:
            keepAlive = false
            if exchange == nil { closeAfterFlush() }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: Processing input

    /// Works through the buffered input as far as the current state allows.
    func process() {
        while true {
            switch state {
            case .head:
                guard let buffer = inbound, buffer.readableBytes > 0 else {
                    inbound = nil
                    return
                }
                if timerKind == .idle { armTimer(.head) }
                var head = HTTPHead()
                let table = loop.table
                let outcome = buffer.withUnsafeReadableBytes { parser.parseRequest($0, into: &head, table: table) }
                switch outcome {
                case .incomplete:
                    return
                case .invalid(let error):
                    respondToInvalidRequest(error)
                    return
                case .complete:
                    timer?.cancel()
                    timer = nil
                    parser.reset()
                    let headBytes = inbound!.readSlice(length: head.length)!
                    if inbound!.readableBytes == 0 { inbound = nil }
                    state = .exchange
                    startExchange(head: head, headBytes: headBytes)
                }
            case .exchange:
                feedRequestBody()
                if let inbound, inbound.readableBytes > loop.configuration.maximumBufferedBytes { pauseReads() }
                return
            case .tunnel:
                if let bytes = inbound, bytes.readableBytes > 0 { exchange?.upstream?.write(bytes) }
                inbound = nil
                return
            case .closing, .closed:
                inbound = nil
                return
            }
        }
    }

    /// Passes the request body's share of the buffered input on (or drops it).
    func feedRequestBody() {
        guard let exchange, !exchange.requestComplete, let buffer = inbound, buffer.readableBytes > 0 else { return }
        let progress = buffer.withUnsafeReadableBytes { exchange.requestFramer.consume($0) }
        let count: Int
        switch progress {
        case .more(let taken):
            count = taken
        case .finished(let taken):
            count = taken
            exchange.requestComplete = true
        case .invalid(let reason):
            keepAlive = false
            if exchange.responseStarted {
                abort()
            } else {
                exchange.upstream?.abandon()
                exchange.upstream = nil
                respondWithError(exchange, status: 400, detail: reason)
            }
            return
        }
        let body = inbound!.readSlice(length: count)!
        if inbound!.readableBytes == 0 { inbound = nil }
        if !exchange.discardRequestBody {
            if let upstream = exchange.upstream {
                upstream.write(body)
                upstreamNeedsFlush = true
                if !upstream.isWritable { pauseReads() }
            } else if exchange.pendingBody == nil {
                exchange.pendingBody = body
            } else {
                var body = body
                exchange.pendingBody!.writeBuffer(&body)
                if exchange.pendingBody!.readableBytes > loop.configuration.maximumBufferedBytes { pauseReads() }
            }
        }
        flushUpstreamIfNeeded(force: false)
        if exchange.requestComplete {
            exchange.upstream?.requestComplete()
            if exchange.responseComplete { finishExchange(exchange) }
        }
    }

    // MARK: Reads, writes and closing

    func pauseReads() {
        readPaused = true
    }

    func resumeReads() {
        guard readPaused else { return }
        readPaused = false
        if readPending {
            readPending = false
            context.read()
        }
    }

    func write(_ bytes: ByteBuffer) {
        context.write(wrapOutboundOut(bytes), promise: nil)
        needsFlush = true
    }

    func flushIfNeeded() {
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
    }

    /// Closes once everything written so far has reached the socket.
    func closeAfterFlush() {
        guard state != .closing && state != .closed else { return }
        state = .closing
        timer?.cancel()
        timer = nil
        needsFlush = false
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        let context = self.context!
        promise.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Closes at once, dropping unwritten bytes: the client must see the response cut short.
    func abort() {
        state = .closed
        exchange?.upstream?.abandon()
        context.close(promise: nil)
    }

    func close() {
        state = .closed
        context.close(promise: nil)
    }

    /// SIGTERM: finish the current exchange with `Connection: close`, then close.
    func drain() {
        keepAlive = false
        if state == .head, exchange == nil, (inbound?.readableBytes ?? 0) == 0 { closeAfterFlush() }
    }

    // MARK: Timers

    func armTimer(_ kind: TimerKind) {
        timer?.cancel()
        timerKind = kind
        let delay = kind == .idle ? loop.configuration.idleTimeout : loop.configuration.headTimeout
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: delay) { [self] in
            timer = nil
            timedOut(kind)
        }
    }

    private func timedOut(_ kind: TimerKind) {
        guard state == .head, exchange == nil else { return }
        if kind == .head, let inbound, inbound.readableBytes > 0 {
            respondToInvalidRequest(nil)
        } else {
            close()
        }
    }
}
