import AttacheRules
import NIOCore

/// The upstream side of the exchange reports here.
extension ClientHandler: UpstreamDelegate {
    func upstreamInterimResponse(_ head: HTTPHead, bytes: ByteBuffer) {
        guard let exchange, exchange.head.version == .http11 else { return }
        // attache answered Expect itself; a 100 from the upstream would be a second one.
        if head.status == 100 && exchange.sentContinue { return }
        var out = allocator.buffer(capacity: bytes.readableBytes)
        HeadWriter.clientResponse(head, bytes: bytes, chunked: false, connection: .none, into: &out)
        write(out)
    }

    func upstreamResponse(_ head: HTTPHead, bytes: ByteBuffer, framing: BodyFraming) {
        guard let exchange else { return }
        exchange.firstResponseByte = .now()
        exchange.origin = .upstream
        exchange.status = head.status

        if head.status == 101 {
            guard exchange.upgradeRequested, let upstream = exchange.upstream else {
                // The upstream connection believes it is tunnelling now: drop it, or its next
                // bytes would still come here (fuzz-relay found them reaching a closed client).
                exchange.upstream?.abandon()
                upstreamFailed(.malformedResponse("101 Switching Protocols without an upgrade request"))
                return
            }
            var out = allocator.buffer(capacity: bytes.readableBytes + 32)
            HeadWriter.clientResponse(head, bytes: bytes, chunked: false, connection: .upgrade, into: &out)
            write(out)
            machine.startTunnel()
            upstream.startTunnel()
            runMachine()
            upstream.flush()
            flushIfNeeded()
            return
        }

        // Response phase: a rule may replace the response.
        let table = exchange.table
        let status = head.status
        let responder = responseResponder(exchange, table: table, status: status, origin: .upstream)
        if let index = responder, let template = table.rules[index].respond {
            let rule = table.rules[index]
            exchange.respondingRule = rule.name
            let upstream = exchange.upstream
            exchange.upstream = nil
            upstream?.discardResponse()
            withUnsafePointer(to: head) { head in
                respondLocally(
                    exchange, template: template, rule: rule, matchedStatus: status, responseHead: head,
                    responseBytes: bytes)
            }
            runMachine()
            // The upstream no longer reports to this handler, so its read burst will not flush.
            flushIfNeeded()
            return
        }

        // Pass through, framed for this client.
        let plan = machine.planResponse(framing)
        if plan.dechunk { exchange.dechunker = BodyFramer(.chunked) }
        var out = loop.headBuffer(capacity: bytes.readableBytes + 64, allocator: allocator)
        HeadWriter.clientResponse(head, bytes: bytes, chunked: plan.chunked, connection: plan.connection, into: &out)
        holdHead(out)
        if !isWritable { exchange.upstream?.pauseReads() }
    }

    func upstreamBody(_ bytes: ByteBuffer) {
        guard let exchange else { return }
        if var dechunker = exchange.dechunker {
            let base = bytes.readerIndex
            var pieces: [Range<Int>] = []
            let progress = bytes.withUnsafeReadableBytes { raw in
                dechunker.consumeData(raw) { pieces.append($0) }
            }
            exchange.dechunker = dechunker
            for piece in pieces {
                write(bytes.getSlice(at: base + piece.lowerBound, length: piece.count)!)
            }
            if case .invalid = progress { perform(.abort) }
        } else {
            writeBodyJoiningHead(bytes)
        }
        if !isWritable { exchange.upstream?.pauseReads() }
    }

    func upstreamResponseEnd() {
        guard let exchange else { return }
        exchange.upstream = nil
        machine.responseEnded()
        runMachine()
        flushIfNeeded()
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        guard let exchange else { return }
        let reused = (exchange.upstream?.exchanges ?? 0) > 1
        exchange.upstream = nil
        let action = machine.upstreamFailed()
        if case .abort = action {
            // Part of the response went out: the client must see it cut short, not complete.
            perform(action)
            return
        }
        // A kept-alive connection may have been closed by the upstream just as we reused it:
        // retry once on a new connection when nothing could have reached the service twice.
        if failure == .closedBeforeResponse, reused, !exchange.retried, !exchange.hasBody {
            exchange.retried = true
            connect(exchange)
            return
        }
        exchange.origin = .proxy
        exchange.status = failure.status
        let table = exchange.table
        let responder = responseResponder(exchange, table: table, status: failure.status, origin: .proxy)
        if let index = responder, let template = table.rules[index].respond {
            let rule = table.rules[index]
            exchange.respondingRule = rule.name
            respondLocally(exchange, template: template, rule: rule, matchedStatus: failure.status)
        } else {
            sendLocal(exchange, ClientHandler.errorResponse(status: failure.status, detail: failure.detail))
        }
        runMachine()
        flushIfNeeded()
    }

    /// The rule that replaces a response with this status, if any: from status and origin alone
    /// when no responder reads the request, else with a request view.
    private func responseResponder(_ exchange: Exchange, table: RuleTable, status: Int, origin: Origin) -> Int? {
        guard table.mayReplaceResponse(status: status) else { return nil }
        guard table.respondersReadRequest else { return table.firstResponseResponder(status: status, origin: origin) }
        return withRequestView(exchange) { view in
            table.firstResponseResponder(view, status: status, origin: origin, scratch: &loop.scratch)
        }
    }

    func upstreamReadComplete() {
        flushIfNeeded()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReads() }
    }

    func upstreamTunnelData(_ bytes: ByteBuffer) {
        write(bytes)
        if !isWritable { exchange?.upstream?.pauseReads() }
    }

    func upstreamTunnelInputClosed() {
        guard machine.state == .tunnel else { return }
        flushIfNeeded()
        context.close(mode: .output, promise: nil)
    }
}
