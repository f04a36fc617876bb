import AttacheRules
import NIOCore

/// One client connection: a thin shell over `ClientConnectionStateMachine`. It feeds the machine
/// the client's bytes and the exchange's events, and carries out its actions: evaluate the rules
/// on a new request head, answer it or forward it to an upstream connection from the loop's
/// pool, relay the response, log the finished exchange, tunnel after an upgrade.
///
/// Reads are left on (auto-read) and only turned off while the other side cannot take more,
/// so a steady stream of requests does not toggle read interest. Inbound only: an outbound
/// handler sits in the path of every read NIO asks for, one more pipeline hop per read.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let loop: LoopState
    var machine: ClientConnectionStateMachine
    var context: ChannelHandlerContext!
    var exchange: Exchange?
    /// The last finished exchange, which begins the next one unless something still holds it (a
    /// connect that was pending when it ended).
    var spareExchange: Exchange?
    var clientAddress = "-"
    /// The head or idle timeout, whichever the machine wants (it calls back once the handler is
    /// added; the loop's event loop is the channel's).
    let timer: DeadlineTimer
    var timerKind: ClientConnectionStateMachine.TimerKind?
    /// `machine.exchangesStarted` when the timer was set.
    var timerExchanges = 0
    var readPaused = false
    var needsFlush = false
    /// The channel's allocator and writability, kept here: asking the channel for them on every
    /// response cost a retain and a release of it each time. `isWritable` follows
    /// `channelWritabilityChanged`, which NIO fires as soon as a write crosses a watermark.
    var allocator = ByteBufferAllocator()
    var isWritable = true
    /// A response head not yet handed to the channel, so that body bytes from the same upstream
    /// read can join it, and the flush after them take it along (`writeAndFlush`: one trip
    /// through the pipeline instead of three). Handed on before any other write, flush or close.
    var heldHead: ByteBuffer?
    /// Body bytes joined the held head already.
    var heldHeadHasBody = false
    /// Request bytes were written to the upstream since its last flush.
    var upstreamNeedsFlush = false
    /// Inside `channelRead`: `channelReadComplete` will flush, so writes wait for it.
    var inReadBurst = false
    /// The full close after lingering (`closeAfterFlush`), pending while the client may still send.
    var lingering: Scheduled<Void>?

    init(loop: LoopState) {
        self.loop = loop
        self.timer = DeadlineTimer(eventLoop: loop.eventLoop)
        self.machine = ClientConnectionStateMachine(
            limits: loop.configuration.limits, maximumBufferedBytes: loop.configuration.maximumBufferedBytes)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        // Unowned, not weak: a weak reference gives the handler a side table, and every retain
        // and release of it takes the runtime's slow path. `handlerRemoved` drops the callback
        // (`DeadlineTimer.close`).
        timer.expired = { [unowned self] in self.timerExpired() }
    }

    /// The handler holds its context and the context its handler: letting go of the context here
    /// is what frees both once the channel is gone (about 1 KiB per connection was never freed).
    /// Nothing calls in after this: the timer was cancelled, the upstream abandoned and the loop
    /// told in `channelInactive`.
    func handlerRemoved(context: ChannelHandlerContext) {
        timer.close()
        // An upstream still attached must stop reporting here (it holds this handler strongly).
        exchange?.upstream?.abandon()
        heldHead = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress?.ipAddress { clientAddress = address }
        loop.clientOpened(self)
        updateTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer.cancel()
        lingering?.cancel()
        lingering = nil
        timerKind = nil
        loop.clientClosed(self)
        let wasTunnel = machine.state == .tunnel
        let responseStarted = machine.responseStarted
        let responseComplete = machine.responseComplete
        machine.closed()
        if let exchange {
            // The client is gone: release the upstream connection at once.
            exchange.upstream?.abandon()
            exchange.upstream = nil
            if !wasTunnel && !responseComplete {
                if !responseStarted { exchange.status = 499 }
                complete(exchange)
            }
            self.exchange = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        machine.received(unwrapInboundIn(data))
        inReadBurst = true
        runMachine()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        flushUpstreamIfNeeded()
        flushIfNeeded()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        if isWritable { exchange?.upstream?.resumeReads() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if machine.state == .tunnel {
            exchange?.upstream?.closeOutput()
            return
        }
        if lingering != nil {
            // The client has closed its side too: nothing more can arrive.
            context.close(promise: nil)
            return
        }
        perform(machine.inputClosed())
        runMachine()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: Carrying out the machine's actions

    /// Works through the buffered input as far as the state allows.
    func runMachine() {
        while true {
            let action = loop.unretainedTable._withUnsafeGuaranteedRef { machine.nextAction(table: $0) }
            if case .wait = action { break }
            perform(action)
        }
        if machine.shouldPauseReads { pauseReads() }
        updateTimer()
    }

    func perform(_ action: consuming ClientConnectionStateMachine.Action) {
        // Consumed: the bytes an action carries move on instead of being copied (a retain and
        // a release each).
        switch consume action {
        case .wait:
            break
        case .startExchange(let bytes):
            startExchange(head: machine.takeRequestHead(), headBytes: bytes, requestEnded: machine.requestComplete)
        case .requestBody(let body):
            forwardBody(body)
        case .requestEnded:
            guard let exchange else { return }
            exchange.requestEnded = true
            exchange.upstream?.requestComplete()
        case .reject(let error):
            respondToInvalidRequest(error)
        case .bodyFailed(let reason):
            guard let exchange else { return }
            exchange.upstream?.abandon()
            exchange.upstream = nil
            respondWithError(exchange, status: 400, detail: reason)
        case .exchangeFinished(let keepAlive):
            guard let finished = exchange.take() else { return }
            complete(finished)
            finished.upstream?.abandon()
            finished.upstream = nil
            machine.recycle(finished.takeHead())
            // Moved, not copied: a copy retained it here and released the local at the end.
            spareExchange = consume finished
            if keepAlive {
                resumeReads()
            } else {
                flushIfNeeded()
                closeAfterFlush()
            }
        case .tunnelData(let bytes):
            guard let upstream = exchange?.upstream else { return }
            upstream.write(bytes)
            upstreamNeedsFlush = true
            flushUpstreamIfNeeded(force: false)
            if !upstream.isWritable { pauseReads() }
        case .abort:
            exchange?.upstream?.abandon()
            exchange?.upstream = nil
            // Closing drops writes not yet flushed; a held head is one of them.
            heldHead = nil
            context.close(promise: nil)
        case .close:
            context.close(promise: nil)
        }
    }

    /// Passes request body bytes to the upstream, or holds them until it is connected.
    func forwardBody(_ body: ByteBuffer) {
        guard let exchange else { return }
        if let upstream = exchange.upstream {
            upstream.write(body)
            upstreamNeedsFlush = true
            flushUpstreamIfNeeded(force: false)
            if !upstream.isWritable { pauseReads() }
        } else if exchange.pendingBody == nil {
            exchange.pendingBody = body
        } else {
            var body = body
            exchange.pendingBody!.writeBuffer(&body)
            if exchange.pendingBody!.readableBytes > loop.configuration.maximumBufferedBytes { pauseReads() }
        }
    }

    // MARK: Reads, writes and closing

    func pauseReads() {
        guard !readPaused else { return }
        readPaused = true
        context.channel.setAutoRead(false)
    }

    func resumeReads() {
        guard readPaused else { return }
        readPaused = false
        context.channel.setAutoRead(true)
    }

    func write(_ bytes: ByteBuffer) {
        writeHeldHead()
        context.write(wrapOutboundOut(bytes), promise: nil)
        needsFlush = true
    }

    /// Writes a response head after all other writes so far; it waits for the next write (or
    /// flush) in case that is body bytes it can carry (`writeBodyJoiningHead`).
    func holdHead(_ head: ByteBuffer) {
        writeHeldHead()
        heldHead = head
        heldHeadHasBody = false
        needsFlush = true
    }

    /// Body bytes: after the held head, in the same buffer when they are few (16 KiB), which
    /// stays held: the flush that follows hands it on in the same trip. Later bytes are written
    /// after it.
    func writeBodyJoiningHead(_ body: ByteBuffer) {
        guard !heldHeadHasBody, var head = heldHead, body.readableBytes <= 16 * 1024 else { return write(body) }
        heldHead = nil  // one reference to the buffer while it grows, or it would be copied
        head.writeImmutableBuffer(body)
        heldHead = head
        heldHeadHasBody = true
    }

    func writeHeldHead() {
        guard let head = heldHead else { return }
        heldHead = nil
        context.write(wrapOutboundOut(head), promise: nil)
        loop.keepHeadBuffer(head)
    }

    func flushIfNeeded() {
        guard needsFlush else { return }
        needsFlush = false
        guard let head = heldHead else { return context.flush() }
        heldHead = nil
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        loop.keepHeadBuffer(head)
    }

    /// Flushes request bytes written to the upstream, unless a read burst is still going on
    /// (then `channelReadComplete` does it once for the whole burst).
    func flushUpstreamIfNeeded(force: Bool = true) {
        guard upstreamNeedsFlush, force || !inReadBurst else { return }
        upstreamNeedsFlush = false
        exchange?.upstream?.flush()
    }

    /// Closes once everything written so far has reached the socket: the output first, then,
    /// after lingering, the whole connection.
    func closeAfterFlush() {
        timer.cancel()
        timerKind = nil
        needsFlush = false
        writeHeldHead()
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(allocator.buffer(capacity: 0)), promise: promise)
        let context = self.context!
        promise.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
            guard case .success = result else { return context.close(promise: nil) }
            let halfClosed = context.eventLoop.makePromise(of: Void.self)
            context.close(mode: .output, promise: halfClosed)
            halfClosed.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
                guard case .success = result, context.channel.isActive else { return context.close(promise: nil) }
                linger(context)
            }
        }
    }

    /// How long a closing connection goes on reading what the client still sends.
    static let lingerTime = TimeAmount.seconds(2)

    /// The response is out and the output closed; what the client still sends (the rest of a
    /// refused body, requests pipelined after `Connection: close`) is read and dropped until it
    /// closes its side, or for `lingerTime`. Closing with those bytes unread would make the
    /// kernel answer with a reset, which can destroy the response before the client reads it
    /// (nginx's lingering close does the same).
    private func linger(_ context: ChannelHandlerContext) {
        lingering = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.lingerTime) {
            context.close(promise: nil)
        }
        resumeReads()
    }

    func close() {
        machine.closed()
        context.close(promise: nil)
    }

    /// SIGTERM: finish the current exchange with `Connection: close`, then close.
    func drain() {
        perform(machine.drain())
    }

    // MARK: Timers

    /// Runs the timer the machine wants. A kind that is already running keeps its deadline
    /// unless an exchange has begun since: a request answered by a rule within one read never
    /// leaves the head state between two updates, yet its idle (or next head) time starts anew.
    func updateTimer() {
        let wanted = machine.timer
        let exchanges = machine.exchangesStarted
        guard wanted != timerKind || exchanges != timerExchanges else { return }
        timerKind = wanted
        timerExchanges = exchanges
        guard let kind = wanted else {
            timer.set(nil)
            return
        }
        let delay = kind == .idle ? loop.configuration.idleTimeout : loop.configuration.headTimeout
        timer.set(after: delay)
    }

    private func timerExpired() {
        guard let kind = timerKind else { return }
        timerKind = nil
        perform(machine.timerFired(kind))
    }
}
