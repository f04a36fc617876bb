import NIOCore

/// One connection to the upstream: a thin shell over `UpstreamConnectionStateMachine`. It writes
/// the requests the client side gives it, feeds the machine what the upstream sends, and carries
/// out the machine's actions (report to the exchange, return to the pool, close); between
/// exchanges it waits in its loop's `UpstreamPool`.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: UpstreamConnectionStateMachine
    private(set) var context: ChannelHandlerContext?
    /// The exchange this connection serves. Strong, and cleared whenever an exchange ends, fails
    /// or is abandoned (and when the handler is removed): a weak reference gave both handlers
    /// side tables, which sent every retain and release of them through the runtime's slow path.
    var delegate: UpstreamDelegate?
    unowned let pool: UpstreamPool
    /// The response timeout, restarted by each read; it calls back once the handler is added
    /// (see `ClientHandler.timer`).
    private let timer: DeadlineTimer
    /// Kept here: reading it through the unowned pool retained and released the pool each time.
    private let responseTimeout: TimeAmount
    /// Reads are paused by turning auto-read off (see `ClientHandler`).
    private var readPaused = false

    init(pool: UpstreamPool, limits: HeadLimits) {
        self.pool = pool
        self.timer = DeadlineTimer(eventLoop: pool.eventLoop)
        self.responseTimeout = pool.configuration.responseTimeout
        self.machine = UpstreamConnectionStateMachine(limits: limits)
    }

    /// Between `channelActive` and `channelInactive`, kept here: the pool asks twice per
    /// exchange, and asking the channel retained it and copied its lifecycle state each time.
    private(set) var isActive = false
    /// Follows `channelWritabilityChanged`, as in `ClientHandler`.
    private(set) var isWritable = true
    var exchanges: Int { machine.exchanges }

    // MARK: Driven by the client side

    /// Starts an exchange: the caller writes the request next.
    func begin(delegate: UpstreamDelegate, requestWasHead: Bool) {
        self.delegate = delegate
        machine.begin(requestWasHead: requestWasHead)
        // The previous client may have paused reads to slow this connection down.
        resumeReads()
    }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    /// `write` then `flush`, in one trip through the pipeline.
    func writeAndFlush(_ bytes: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    /// The whole request is written: the response timeout starts.
    func requestComplete() {
        machine.requestComplete()
        updateTimer()
    }

    /// The exchange will not use this response (a rule replaced it): drop the rest of the body
    /// if it is short, else close.
    func discardResponse() {
        delegate = nil
        perform(machine.discard())
        runMachine()
    }

    /// The client went away or the exchange failed: this connection's state is unknown.
    func abandon() {
        delegate = nil
        close()
    }

    func startTunnel() {
        machine.startTunnel()
        updateTimer()
    }

    func closeOutput() {
        context?.close(mode: .output, promise: nil)
    }

    func close() {
        machine.closed()
        timer.cancel()
        context?.close(promise: nil)
    }

    func pauseReads() {
        guard !readPaused, let context else { return }
        readPaused = true
        context.channel.setAutoRead(false)
    }

    func resumeReads() {
        guard readPaused else { return }
        readPaused = false
        context?.channel.setAutoRead(true)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Unowned, not weak (see `delegate`): the timer is cancelled when the handler is removed.
        timer.expired = { [unowned self] in self.timedOut() }
        isActive = context.channel.isActive
    }

    func channelActive(context: ChannelHandlerContext) {
        isActive = true
        context.fireChannelActive()
    }

    private func timedOut() {
        perform(machine.timedOut())
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        isActive = false
        delegate = nil
        timer.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        machine.received(unwrapInboundIn(data))
        runMachine()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        delegate?.upstreamWritabilityChanged(isWritable: isWritable)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            perform(machine.inputClosed())
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        timer.cancel()
        perform(machine.inputClosed())
        machine.closed()
        pool.remove(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and the like: channelInactive follows and reports to the exchange.
        context.close(promise: nil)
    }

    // MARK: Carrying out the machine's actions

    private func runMachine() {
        while true {
            let action = machine.nextAction()
            if case .wait = action { break }
            perform(action)
        }
        updateTimer()
    }

    private func perform(_ action: consuming UpstreamConnectionStateMachine.Action) {
        // Consumed: the bytes an action carries move on to the client side instead of being
        // copied (a retain and a release each).
        switch consume action {
        case .wait:
            break
        case .interimResponse(let bytes):
            delegate?.upstreamInterimResponse(machine.head, bytes: bytes)
        case .response(let bytes, let framing):
            delegate?.upstreamResponse(machine.head, bytes: bytes, framing: framing)
        case .body(let bytes):
            delegate?.upstreamBody(bytes)
        case .responseEnded(let reusable):
            let delegate = endExchange(reusable: reusable)
            delegate?.upstreamResponseEnd()
        case .discarded(let reusable):
            endExchange(reusable: reusable)
        case .fail(let failure):
            let delegate = self.delegate
            self.delegate = nil
            close()
            delegate?.upstreamFailed(failure)
        case .close:
            delegate = nil
            close()
        case .tunnelData(let bytes):
            delegate?.upstreamTunnelData(bytes)
        case .tunnelInputClosed:
            delegate?.upstreamTunnelInputClosed()
        }
    }

    /// Leaves the exchange: back to the pool, or closed. Returns the delegate it served.
    @discardableResult
    private func endExchange(reusable: Bool) -> UpstreamDelegate? {
        let delegate = self.delegate
        self.delegate = nil
        timer.set(nil)
        if reusable {
            pool.release(self)
        } else {
            context?.close(promise: nil)
        }
        return delegate
    }

    /// (Re)starts the response timeout while the machine wants one, so it measures the time
    /// since the last progress.
    private func updateTimer() {
        guard machine.wantsTimer, context != nil else {
            timer.set(nil)
            return
        }
        timer.set(after: responseTimeout)
    }
}
