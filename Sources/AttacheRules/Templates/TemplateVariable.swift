/// A value a template can insert, resolved from its dotted name at load time.
public enum TemplateVariable: Hashable, Sendable {
    case requestMethod
    case requestPath
    case requestQuery
    case requestTarget
    case requestHost
    case requestID
    /// A request header, by lower-cased name and the slot the rule table assigned to that name.
    case requestHeader(name: String, slot: Int)
    case clientIP
    case responseStatus
    case responseReason
    case responseOrigin
    case responseRule
    /// A header of the upstream's response, by lower-cased name and slot.
    case responseHeader(name: String, slot: Int)
    case durationMilliseconds
    case upstreamMilliseconds
    case ruleName
    case pathCapture(String)
    case timeHTTP
    case timeISO
    case hostName
    case upstreamAddress

    /// Every fixed name, for lookup and for "did you mean" suggestions.
    static let fixedNames: [String: TemplateVariable] = [
        "request.method": .requestMethod,
        "request.path": .requestPath,
        "request.query": .requestQuery,
        "request.target": .requestTarget,
        "request.host": .requestHost,
        "request.id": .requestID,
        "client.ip": .clientIP,
        "response.status": .responseStatus,
        "response.reason": .responseReason,
        "response.origin": .responseOrigin,
        "response.rule": .responseRule,
        "duration.ms": .durationMilliseconds,
        "upstream.ms": .upstreamMilliseconds,
        "rule.name": .ruleName,
        "time.http": .timeHTTP,
        "time.iso": .timeISO,
        "host.name": .hostName,
        "upstream.address": .upstreamAddress,
    ]

    /// Names suggested when a variable is unknown; the open families are shown with a placeholder.
    static let suggestionNames: [String] =
        fixedNames.keys.sorted() + ["request.header.NAME", "response.header.NAME", "path.NAME"]

    /// The dotted name as written in templates.
    public var name: String {
        switch self {
        case .requestHeader(let name, _): return "request.header.\(name)"
        case .responseHeader(let name, _): return "response.header.\(name)"
        case .pathCapture(let name): return "path.\(name)"
        default:
            return TemplateVariable.fixedNames.first { $0.value == self }?.key ?? "?"
        }
    }

    /// Whether the variable describes the response (and so has no value before one exists).
    public var needsResponse: Bool {
        switch self {
        case .responseStatus, .responseReason, .responseOrigin, .responseRule, .responseHeader,
            .durationMilliseconds, .upstreamMilliseconds, .upstreamAddress:
            return true
        default:
            return false
        }
    }
}
