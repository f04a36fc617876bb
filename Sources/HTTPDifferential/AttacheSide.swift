import AttacheRelay

/// attache's parser (heads + body framing) over a whole byte stream, as the relay runs it.
public enum AttacheSide {
    public static func requests(_ bytes: [UInt8]) -> ParseSummary {
        summarize(bytes, kind: .request)
    }

    /// Responses to GET requests; `closed` means the stream ended with the connection closing.
    public static func responses(_ bytes: [UInt8]) -> ParseSummary {
        summarize(bytes, kind: .response)
    }

    enum Kind {
        case request
        case response
    }

    static func summarize(_ bytes: [UInt8], kind: Kind) -> ParseSummary {
        var summary = ParseSummary()
        var offset = 0
        var awaitingFinalResponse = false
        var parser = HeadParser(limits: HeadLimits())
        bytes.withUnsafeBytes { all in
            while offset < all.count {
                // Between responses, stray line endings are skipped (llhttp does the same).
                if kind == .response, offset > 0 {
                    while offset < all.count, all[offset] == 13 || all[offset] == 10 { offset += 1 }
                    if offset == all.count { break }
                }
                let rest = UnsafeRawBufferPointer(rebasing: all[offset...])
                var head = HTTPHead()
                parser.reset()
                let outcome = kind == .request ? parser.parseRequest(rest, into: &head) : parser.parseResponse(rest, into: &head)
                switch outcome {
                case .incomplete:
                    // For responses the bytes end with the connection: a head cut short fails.
                    if kind == .response { summary.rejected = true }
                    return
                case .invalid:
                    summary.rejected = true
                    summary.failureOffset = offset
                    return
                case .complete:
                    break
                }
                // Interim responses are heads without bodies; the decoder reports them as messages.
                let framing = kind == .request
                    ? BodyFraming.request(head) : BodyFraming.response(head, requestWasHead: false)
                var message = ParseSummary.Message(
                    start: kind == .request ? text(rest, head.method) : String(head.status),
                    target: kind == .request ? text(rest, head.target) : "",
                    version: head.version.text,
                    headers: head.fields.map { text(rest, $0.name).lowercased() + ": " + text(rest, $0.value) },
                    bodyLength: 0)
                if kind == .response, head.status == 101 {
                    // The requests were not upgrades: a 101 is a bad response (502).
                    summary.rejected = true
                    summary.failureOffset = offset
                    return
                }
                if head.status == 101 || (kind == .request && head.connectionUpgrade
                    && head.fields.contains { $0.flags.contains(.upgrade) })
                {
                    // After an upgrade the bytes are no longer HTTP.
                    summary.messages.append(message)
                    return
                }
                offset += head.length
                if kind == .response, head.status < 200 {
                    // Interim responses are relayed as they are; NIOHTTP1 drops them by default.
                    awaitingFinalResponse = true
                    continue
                }
                awaitingFinalResponse = false
                var framer = BodyFramer(framing)
                let body = UnsafeRawBufferPointer(rebasing: all[offset...])
                var dataLength = 0
                let progress = framer.consumeData(body) { dataLength += $0.count }
                message.bodyLength = dataLength
                switch progress {
                case .finished(let count):
                    offset += count
                    summary.messages.append(message)
                    summary.consumed = offset
                case .more(let count):
                    offset += count
                    if framing == .untilClose {
                        summary.messages.append(message)
                    } else if kind == .response {
                        // The connection closed (the bytes ended) in the middle of the body.
                        summary.rejected = true
                    } else {
                        summary.partialMessage = true
                        summary.partialMethod = message.start
                    }
                    return
                case .invalid:
                    summary.rejected = true
                    summary.failedInChunkedBody = framing == .chunked
                    return
                }
                // After a message that ends the connection nothing more is read: the relay
                // closes, where llhttp reports extra bytes (other than empty lines) as an error.
                if !head.keepsAlive, all[offset...].contains(where: { $0 != 13 && $0 != 10 }) {
                    summary.rejected = true
                    return
                }
                if !head.keepsAlive { return }
            }
        }
        // The connection closed after interim responses only: there was no response.
        if awaitingFinalResponse {
            summary.rejected = true
            summary.endedAfterInterim = true
        }
        return summary
    }

    static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int32>) -> String {
        String(decoding: bytes[Int(range.lowerBound)..<Int(range.upperBound)], as: UTF8.self)
    }
}
