/// An exchange described with plain values: what `attache explain` evaluates and renders, and
/// what tests use. The relay has its own byte-level `TemplateContext`; both render through the
/// same `Template` code.
public struct ExchangeFacts: Sendable, TemplateContext {
    public var method: String
    /// The request target as sent (`/path?query`).
    public var target: String
    public var requestHeaders: [(name: String, value: String)]
    public var requestID: String?
    public var clientIP: String?
    public var status: Int?
    public var reason: String?
    public var origin: Origin?
    /// The rule that produced the response, when one did.
    public var respondingRule: String?
    public var responseHeaders: [(name: String, value: String)] = []
    public var durationNanoseconds: Int64?
    public var upstreamNanoseconds: Int64?
    /// The rule whose action is rendering (`rule.name`).
    public var ruleName: String?
    /// `path.NAME` values for the rule being rendered.
    public var captures: [String: String] = [:]
    public var epochSeconds: Int64
    public var epochNanoseconds: Int32 = 0
    public var hostName: String?
    public var upstreamAddress: String?

    public init(
        method: String, target: String, requestHeaders: [(name: String, value: String)] = [],
        epochSeconds: Int64 = 0
    ) {
        self.method = method
        self.target = target
        self.requestHeaders = requestHeaders
        self.epochSeconds = epochSeconds
    }

    /// The raw path (before normalization) and query.
    public var rawPath: String {
        String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    public var query: String? {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 ? String(parts[1]) : nil
    }

    /// The path rules see, or `nil` when its percent-encoding is invalid.
    public var normalizedPath: String? { PathNormalizer.normalize(rawPath) }

    func headerValue(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        let values = headers.filter { $0.name.lowercased() == name }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    public func appendValue(of variable: TemplateVariable, to output: inout [UInt8]) -> Bool {
        func put(_ text: String?) -> Bool {
            guard let text else { return false }
            output.append(contentsOf: text.utf8)
            return true
        }
        switch variable {
        case .requestMethod: return put(method)
        case .requestPath: return put(normalizedPath ?? rawPath)
        case .requestQuery: return put(query)
        case .requestTarget: return put(target)
        case .requestHost: return put(headerValue("host", in: requestHeaders))
        case .requestID: return put(requestID ?? headerValue("x-request-id", in: requestHeaders))
        case .requestHeader(let name, _): return put(headerValue(name, in: requestHeaders))
        case .clientIP: return put(clientIP)
        case .responseStatus: return put(status.map(String.init))
        case .responseReason: return put(reason ?? status.map(HTTPReason.phrase))
        case .responseOrigin: return put(origin?.rawValue)
        case .responseRule: return put(respondingRule)
        case .responseHeader(let name, _): return put(headerValue(name, in: responseHeaders))
        case .durationMilliseconds, .upstreamMilliseconds:
            guard let nanoseconds = variable == .durationMilliseconds ? durationNanoseconds : upstreamNanoseconds
            else { return false }
            ValueFormatting.appendMilliseconds(nanoseconds: nanoseconds, to: &output)
            return true
        case .ruleName: return put(ruleName)
        case .pathCapture(let name): return put(captures[name])
        case .timeHTTP:
            ValueFormatting.appendHTTPDate(epochSeconds: epochSeconds, to: &output)
            return true
        case .timeISO:
            ValueFormatting.appendISODate(epochSeconds: epochSeconds, nanoseconds: epochNanoseconds, to: &output)
            return true
        case .hostName: return put(hostName)
        case .upstreamAddress: return put(upstreamAddress)
        }
    }

    /// Calls `body` with a `RequestView` of this request for `table` (header slots resolved), or
    /// returns `nil` when the path's percent-encoding is invalid.
    public func withRequestView<Result>(for table: RuleTable, _ body: (RequestView) -> Result) -> Result? {
        guard let path = normalizedPath else { return nil }
        let methodBytes = Array(method.utf8)
        let pathBytes = Array(path.utf8)
        let fields: [(slot: Int, value: [UInt8])] = requestHeaders.compactMap { header in
            let name = Array(header.name.utf8)
            guard let slot = name.withUnsafeBytes({ table.requestHeaderSlot($0) }) else { return nil }
            return (slot, Array(header.value.trimmingCharacters(in: " ").utf8))
        }
        return methodBytes.withUnsafeBytes { method in
            pathBytes.withUnsafeBytes { path in
                withFieldViews(fields[...], collected: []) { views in
                    views.withUnsafeBufferPointer { buffer in
                        body(RequestView(method: method, path: path, headers: buffer))
                    }
                }
            }
        }
    }

    /// Builds `HeaderField` views whose pointers stay valid for the duration of `body`.
    private func withFieldViews<Result>(
        _ fields: ArraySlice<(slot: Int, value: [UInt8])>, collected: [HeaderField], _ body: ([HeaderField]) -> Result
    ) -> Result {
        guard let first = fields.first else { return body(collected) }
        return first.value.withUnsafeBytes { value in
            withFieldViews(fields.dropFirst(), collected: collected + [HeaderField(slot: first.slot, value: value)], body)
        }
    }
}
