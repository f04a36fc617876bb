import AttacheRelay

/// attache's head parser must answer the same whether a head arrives in one read or one byte
/// per read: in one read it is checked by the full parse (the fast path), in pieces by the byte
/// grammar first. Compares the two for the first head in `bytes`; returns what differs, or `nil`.
public enum SplitConsistency {
    public static func firstHeadDifference(
        _ bytes: [UInt8], requests: Bool, limits: HeadLimits = HeadLimits()
    ) -> String? {
        let whole = parse(bytes, requests: requests, limits: limits, upTo: [bytes.count])
        let pieces = parse(bytes, requests: requests, limits: limits, upTo: Array(1...max(bytes.count, 1)))
        return whole == pieces ? nil : "in one read: \(whole); byte by byte: \(pieces)"
    }

    /// Feeds growing prefixes of `bytes` (ending at each of `ends`) to one parser, as the relay
    /// does while a head arrives; describes the first outcome that is not `.incomplete`.
    private static func parse(_ bytes: [UInt8], requests: Bool, limits: HeadLimits, upTo ends: [Int]) -> String {
        var parser = HeadParser(limits: limits)
        var head = HTTPHead()
        for end in ends {
            let outcome = bytes[0..<end].withUnsafeBytes { prefix in
                requests ? parser.parseRequest(prefix, into: &head) : parser.parseResponse(prefix, into: &head)
            }
            switch outcome {
            case .incomplete:
                continue
            case .invalid(let error):
                return "refused: \(error)"
            case .complete:
                return "complete: \(describe(head))"
            }
        }
        return "incomplete"
    }

    /// Everything the relay takes from a head.
    private static func describe(_ head: HTTPHead) -> String {
        let fields = head.fields.map { "\($0.line) \($0.name) \($0.value) \($0.flags.rawValue) \($0.slot)" }
        return """
            length=\(head.length) method=\(head.method) target=\(head.target) status=\(head.status) \
            reason=\(head.reason) version=\(head.version) fieldsEnd=\(head.fieldsEnd) \
            contentLength=\(String(describing: head.contentLength)) te=\(head.hasTransferEncoding) \
            chunked=\(head.chunked) close=\(head.connectionClose) keepAlive=\(head.connectionKeepAlive) \
            upgrade=\(head.connectionUpgrade) host=\(head.hostCount) \(String(describing: head.host)) \
            expect=\(head.expectContinue) \(head.expectOther) hopByHop=\(head.hopByHopCount) fields=\(fields)
            """
    }
}
