import AttacheRules
import AttacheTelemetry
import NIOCore

extension ClientHandler {
    // MARK: Starting an exchange

    /// `requestEnded`: the request has no body, so it is complete with its head.
    func startExchange(head: consuming HTTPHead, headBytes: ByteBuffer, requestEnded: Bool) {
        let table = loop.table
        let pathRange = ClientHandler.pathRange(of: head, in: headBytes)
        // The path rules see is the normalized one; the target is forwarded as it came.
        let outcome = headBytes.withUnsafeReadableBytes { bytes in
            PathNormalizer.normalize(slice(bytes, pathRange), into: &loop.pathScratch)
        }
        // Methods are case-sensitive (RFC 9110 §9.1).
        let (isHead, isConnect) = headBytes.withUnsafeReadableBytes { bytes in
            let method = slice(bytes, head.method)
            return (bytesEqual(method, "HEAD"), bytesEqual(method, "CONNECT"))
        }
        let upgrade = head.version == .http11 && head.connectionUpgrade && head.fields.contains { $0.flags.contains(.upgrade) }
        let normalizedPath = outcome == .normalized ? loop.pathScratch : nil
        let expectOther = head.expectOther
        // The finished exchange begins this one, unless something still holds it (a connect that
        // was pending when it ended).
        var spare = spareExchange.take()
        let exchange = isKnownUniquelyReferenced(&spare) ? spare.take()! : Exchange(table: table, plan: loop.plan)
        exchange.begin(
            head: head, headBytes: headBytes, table: table, plan: loop.plan, start: .now(),
            requestNumber: loop.nextRequestNumber(), normalizedPath: normalizedPath, pathRange: pathRange,
            isHeadRequest: isHead, upgradeRequested: upgrade, requestEnded: requestEnded)
        self.exchange = exchange
        switch outcome {
        case .invalidPercentEncoding:
            machine.disableKeepAlive()
            respondWithError(exchange, status: 400, detail: "invalid percent-encoding in the request target")
            return
        case .unchanged, .normalized:
            break
        }
        if isConnect {
            machine.disableKeepAlive()
            respondWithError(exchange, status: 405, detail: "CONNECT is not supported by this proxy")
            return
        }
        if expectOther {
            machine.disableKeepAlive()
            respondWithError(exchange, status: 417, detail: "only Expect: 100-continue is supported")
            return
        }

        // Request phase: a rule may answer without the upstream.
        if table.answersRequests,
            let index = withRequestView(exchange, { table.firstRequestResponder($0, scratch: &loop.scratch) }),
            let template = table.rules[index].respond
        {
            let rule = table.rules[index]
            exchange.respondingRule = rule.name
            exchange.origin = .proxy
            respondLocally(exchange, template: template, rule: rule, matchedStatus: nil)
            return
        }
        forward(exchange)
    }

    /// The path part of the request target: origin-form up to `?`, the path of an absolute-form
    /// target, or the whole target (`*`).
    static func pathRange(of head: HTTPHead, in bytes: ByteBuffer) -> Range<Int32> {
        bytes.withUnsafeReadableBytes { raw in
            var start = Int(head.target.lowerBound)
            let end = Int(head.target.upperBound)
            if raw[start] != UInt8(ascii: "/") && raw[start] != UInt8(ascii: "*") {
                // absolute-form: scheme "://" authority path
                if let scheme = (start..<end).first(where: { raw[$0] == UInt8(ascii: ":") }),
                    scheme + 2 < end, raw[scheme + 1] == UInt8(ascii: "/"), raw[scheme + 2] == UInt8(ascii: "/")
                {
                    start = (scheme + 3..<end).first(where: { raw[$0] == UInt8(ascii: "/") || raw[$0] == UInt8(ascii: "?") }) ?? end
                }
            }
            var stop = start
            while stop < end, raw[stop] != UInt8(ascii: "?") { stop += 1 }
            return Int32(start)..<Int32(stop)
        }
    }

    /// Calls `body` with a `RequestView` of the exchange's request (header fields by slot).
    func withRequestView<Result>(_ exchange: Exchange, _ body: (RequestView) -> Result) -> Result {
        exchange.headBytes.withUnsafeReadableBytes { bytes in
            let method = slice(bytes, exchange.head.method)
            func view(_ fields: UnsafeBufferPointer<HeaderField>) -> Result {
                if let normalized = exchange.normalizedPath {
                    return normalized.withUnsafeBytes { path in
                        body(RequestView(method: method, path: path, headers: fields))
                    }
                }
                return body(RequestView(method: method, path: slice(bytes, exchange.pathRange), headers: fields))
            }
            // No field has a slot unless a rule reads request headers.
            guard exchange.table.readsRequestHeaders else { return view(UnsafeBufferPointer(start: nil, count: 0)) }
            loop.headerFields.removeAllKeepingCapacity()
            exchange.head.withFields { fields in
                for field in fields where field.slot >= 0 {
                    loop.headerFields.append(HeaderField(slot: Int(field.slot), value: slice(bytes, field.value)))
                }
            }
            return loop.headerFields.withUnsafeBufferPointer(view)
        }
    }

    /// Template values for the exchange; `responseHead` (parsed from `responseBytes`) adds the
    /// upstream's response fields. Two optionals, not an optional (head, bytes) pair: that one
    /// went through the runtime's generic tuple witnesses (≈ 300 instructions per replaced
    /// response).
    func withRequestContext<Result>(
        _ exchange: Exchange, responseHead: UnsafePointer<HTTPHead>? = nil, responseBytes: ByteBuffer? = nil,
        _ body: (inout RequestContext) -> Result
    ) -> Result {
        exchange.headBytes.withUnsafeReadableBytes { bytes in
            func run(_ path: UnsafeRawBufferPointer, _ responseBytes: UnsafeRawBufferPointer?) -> Result {
                var context = RequestContext(
                    exchange: exchange, loop: loop, client: self, bytes: bytes, path: path,
                    status: exchange.status == 0 ? nil : exchange.status, origin: exchange.origin,
                    responseHead: responseHead, responseBytes: responseBytes)
                return body(&context)
            }
            func withPath(_ responseBytes: UnsafeRawBufferPointer?) -> Result {
                if let normalized = exchange.normalizedPath {
                    return normalized.withUnsafeBytes { run($0, responseBytes) }
                }
                return run(slice(bytes, exchange.pathRange), responseBytes)
            }
            if let response = responseBytes {
                return response.withUnsafeReadableBytes { withPath($0) }
            }
            return withPath(nil)
        }
    }

    // MARK: Forwarding

    func forward(_ exchange: Exchange) {
        if exchange.head.expectContinue && exchange.hasBody {
            // attache reads the body itself, so it answers the expectation (and strips Expect).
            var continueBytes = allocator.buffer(capacity: 25)
            continueBytes.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
            write(continueBytes)
            flushIfNeeded()
            exchange.sentContinue = true
            machine.sentContinue()
        }
        if let upstream = loop.pool.acquireIdle() {
            attach(upstream, to: exchange)
        } else {
            connect(exchange)
        }
    }

    func connect(_ exchange: Exchange) {
        loop.pool.connect { [self] result in
            guard self.exchange === exchange, machine.state == .exchange else {
                if case .success(let upstream) = result { upstream.close() }
                return
            }
            switch result {
            case .success(let upstream):
                attach(upstream, to: exchange)
                resumeReads()
                runMachine()
                flushUpstreamIfNeeded()
            case .failure(let failure):
                upstreamFailed(failure)
            }
            flushIfNeeded()
        }
    }

    func attach(_ upstream: UpstreamHandler, to exchange: Exchange) {
        exchange.upstream = upstream
        upstream.begin(delegate: self, requestWasHead: exchange.isHeadRequest)
        var head = loop.headBuffer(capacity: exchange.head.length + 128, allocator: allocator)
        let upgrade = exchange.upgradeRequested
        exchange.withHead { request, bytes in
            HeadWriter.forwardedRequest(
                request, bytes: bytes, clientAddress: clientAddress, defaultHost: loop.upstreamAuthority,
                upgrade: upgrade, into: &head)
        }
        if exchange.requestEnded { upstream.requestComplete() }
        if let pending = exchange.pendingBody {
            exchange.pendingBody = nil
            upstream.write(head)
            upstream.write(pending)
            upstream.flush()
        } else {
            upstream.writeAndFlush(head)
        }
        loop.keepHeadBuffer(head)
    }

    // MARK: Local responses

    /// Sends a rule's response. `matchedStatus` is the status being replaced (response phase).
    func respondLocally(
        _ exchange: Exchange, template: ResponseTemplate, rule: Rule, matchedStatus: Int?,
        responseHead: UnsafePointer<HTTPHead>? = nil, responseBytes: ByteBuffer? = nil
    ) {
        machine.respondedLocally()
        // Rendered into the loop's scratch arrays (head, body), then one head buffer: no
        // allocation once warm.
        let extra = HeadWriter.connectionLine(machine.connectionField)
        loop.localResponse.removeAllKeepingCapacity()
        let status = withRequestContext(exchange, responseHead: responseHead, responseBytes: responseBytes) { context -> Int in
            context.rule = rule
            context.status = matchedStatus
            if rule.capturesPath {
                context.captures = withRequestView(exchange) { rule.conditions.pathCaptures($0) }
            }
            return template.renderWire(
                context, matchedStatus: matchedStatus, extraHeaders: extra, into: &loop.localResponse,
                body: &loop.localBody, scratch: &loop.renderScratch)
        }
        exchange.status = status
        let includeBody = !exchange.isHeadRequest
        var bytes = loop.headBuffer(
            capacity: loop.localResponse.count + (includeBody ? loop.localBody.count : 0), allocator: allocator)
        bytes.writeBytes(loop.localResponse)
        if includeBody { bytes.writeBytes(loop.localBody) }
        write(bytes)
        loop.keepHeadBuffer(bytes)
    }

    /// An error attache produced itself (400, 405, 417, 502, 504 …), as plain text.
    func respondWithError(_ exchange: Exchange, status: Int, detail: String) {
        exchange.origin = .proxy
        sendLocal(exchange, ClientHandler.errorResponse(status: status, detail: detail))
    }

    static func errorResponse(status: Int, detail: String) -> RenderedResponse {
        let body = Array("\(status) \(HTTPReason.phrase(status)): \(detail)\n".utf8)
        return RenderedResponse(
            status: status, reason: HTTPReason.phrase(status),
            headers: [("content-type", "text/plain; charset=utf-8"), ("content-length", String(body.count))],
            body: body)
    }

    func sendLocal(_ exchange: Exchange, _ response: RenderedResponse) {
        machine.respondedLocally()
        exchange.status = response.status
        var bytes = allocator.buffer(capacity: 256 + response.body.count)
        HeadWriter.localResponse(
            response, includeBody: !exchange.isHeadRequest, connection: machine.connectionField, into: &bytes)
        write(bytes)
    }

    /// A head that could not be parsed (or did not arrive in time: `nil`) gets its status and
    /// the connection closes: the stream cannot be trusted past it.
    func respondToInvalidRequest(_ error: HeadError?) {
        let response = error.map { ClientHandler.errorResponse(status: $0.status, detail: $0.detail) }
            ?? ClientHandler.errorResponse(status: 408, detail: "the request head did not arrive in time")
        var bytes = allocator.buffer(capacity: 256)
        HeadWriter.localResponse(response, includeBody: true, connection: .close, into: &bytes)
        write(bytes)
        closeAfterFlush()
    }

    // MARK: Finishing

    /// Runs the `log` and `record` actions that apply to the finished exchange.
    func complete(_ exchange: Exchange) {
        let table = exchange.table
        let status = exchange.status == 0 ? 499 : exchange.status
        exchange.status = status
        guard table.hasCompletionRules else { return }
        // Rules without conditions apply to every exchange: their list as is, without a request
        // view or the index.
        let matched: [Int32]
        if let every = table.unconditionalCompletion {
            matched = every
        } else {
            withRequestView(exchange) { view in
                table.completionRules(
                    view, status: status, origin: exchange.origin, into: &loop.completion, scratch: &loop.scratch)
            }
            matched = loop.completion
        }
        guard !matched.isEmpty else { return }
        // One set of figures for every rule that logs or records this exchange.
        let duration = (NIODeadline.now() - exchange.start).nanoseconds
        let upstream = exchange.firstResponseByte.map { ($0 - exchange.start).nanoseconds }
        let time = SystemClock.epochNanoseconds()
        // One template context for all the rules (building one per rule cost as much as a rule).
        withRequestContext(exchange) { context in
            context.durationNanoseconds = duration
            context.upstreamNanoseconds = upstream
            let method = slice(context.bytes, exchange.head.method)
            // `rules` holds every rule for the loop: each is read without a retain of its own.
            let rules = table.rules
            for index in matched {
                unowned(unsafe) let rule = rules[Int(index)]
                context.rule = rule
                context.captures = rule.capturesPath ? withRequestView(exchange) { rule.conditions.pathCaptures($0) } : nil
                if let log = rule.log {
                    loop.renderOutput.removeAllKeepingCapacity()
                    log.render(context, into: &loop.renderOutput, scratch: &loop.renderScratch)
                    // The request id is a field of JSON lines only (text lines are the template).
                    loop.requestIDBytes.removeAllKeepingCapacity()
                    if loop.logsJSON { loop.requestID(exchange.requestNumber).write(into: &loop.requestIDBytes) }
                    loop.renderOutput.withUnsafeBytes { message in
                        loop.requestIDBytes.withUnsafeBytes { requestID in
                            loop.log(
                                AccessLogEntry(
                                    epochNanoseconds: time, rule: rule.name, message: message, method: method,
                                    path: context.path, status: status, durationNanoseconds: duration,
                                    upstreamNanoseconds: upstream, requestID: requestID,
                                    clientIP: context.clientAddress))
                        }
                    }
                }
                if let record = rule.record, let slot = exchange.plan.slot(forRule: Int(index)) {
                    loop.renderOutput.removeAllKeepingCapacity()
                    record.key.render(context, into: &loop.renderOutput, scratch: &loop.renderScratch)
                    loop.record(
                        slot: slot, key: loop.renderOutput, method: method, status: status,
                        durationNanoseconds: duration, upstreamNanoseconds: upstream, epochNanoseconds: time)
                }
            }
        }
    }
}
