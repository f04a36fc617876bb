/// One rule after decoding: its conditions, compiled patterns and templates, and its actions.
///
/// A class: the relay passes the matching rule around on every exchange, and copying a struct
/// of this many references cost a retain and a release for each of them.
public final class Rule: Sendable {
    /// When a rule's `respond` is considered.
    public enum Phase: String, Sendable {
        /// No status or origin condition: answered from the request head, before the upstream.
        case request
        /// Has a status or origin condition: tested once a response head exists.
        case response
    }

    /// Position in the rule set (file-name order, then order in the file).
    public let index: Int
    public let name: String
    public let location: SourceLocation
    public let conditions: Conditions
    public let respond: ResponseTemplate?
    public let record: RecordAction?
    public let log: Template?
    /// Whether a path pattern captures anything (`conditions.captureNames` builds a set).
    public let capturesPath: Bool

    public init(
        index: Int, name: String, location: SourceLocation, conditions: Conditions, respond: ResponseTemplate?,
        record: RecordAction?, log: Template?
    ) {
        self.index = index
        self.name = name
        self.location = location
        self.conditions = conditions
        self.respond = respond
        self.record = record
        self.log = log
        capturesPath = !conditions.captureNames.isEmpty
    }

    public var phase: Phase {
        conditions.statuses == nil && conditions.origins == nil ? .request : .response
    }

    /// Action names, in the order `explain` and `/rules` list them.
    public var actionNames: [String] {
        var names: [String] = []
        if respond != nil { names.append("respond") }
        if record != nil { names.append("record") }
        if log != nil { names.append("log") }
        return names
    }
}

/// The `when` block. `nil` means "no condition on this", which matches everything.
public struct Conditions: Sendable {
    public var methods: MethodSet?
    /// Any one pattern matching is enough.
    public var paths: [PathPattern]?
    /// All must hold.
    public var headers: [HeaderCondition] = []
    public var statuses: StatusSet?
    public var origins: Set<Origin>?
    /// Where each condition was written, for lint messages.
    public var location: SourceLocation?

    public init() {}

    /// Names the path patterns capture (all patterns together).
    public var captureNames: Set<String> {
        Set(paths?.flatMap(\.captureNames) ?? [])
    }

    /// Whether a request (no response yet) satisfies the method, path and header conditions,
    /// evaluated directly (no index); captures of the first matching path pattern are returned.
    public func matchesRequest(_ request: RequestView, captures: inout [Range<Int>]) -> Bool {
        captures.removeAllKeepingCapacity()
        if let methods {
            let bucket = MethodSet.bucket(of: request.method)
            guard methods.contains(bucket: bucket, method: request.method) else { return false }
        }
        for header in headers where !header.holds(in: request.headers) { return false }
        guard let paths else { return true }
        for pattern in paths where pattern.matches(request.path, captures: &captures) { return true }
        return false
    }

    /// The `path.NAME` values for a request these conditions match: from the first path pattern
    /// that matches.
    public func pathCaptures(_ request: RequestView) -> [String: String] {
        var ranges: [Range<Int>] = []
        for pattern in paths ?? [] where pattern.matches(request.path, captures: &ranges) {
            var captures: [String: String] = [:]
            for (name, range) in zip(pattern.captureNames, ranges) {
                captures[name] = String(decoding: UnsafeRawBufferPointer(rebasing: request.path[range]), as: UTF8.self)
            }
            return captures
        }
        return [:]
    }

    /// Whether status and origin conditions hold.
    public func matchesResponse(status: Int, origin: Origin) -> Bool {
        if let statuses, !statuses.contains(status) { return false }
        if let origins, !origins.contains(origin) { return false }
        return true
    }
}

/// A response a rule sends: from a named template or written inline.
///
/// A class, as `Rule` is: the relay hands it on for every response it renders.
public final class ResponseTemplate: Sendable {
    /// The template's name, or `nil` for an inline `respond:` mapping.
    public let templateName: String?
    /// `nil` keeps the status that triggered the rule (response phase only).
    public let status: Int?
    public let headers: [(name: String, value: Template)]
    public let body: Template?
    /// Where the template was defined.
    public let location: SourceLocation
    /// Wire bytes made once, when the rules are compiled (`renderWire`): each piece's bytes, then
    /// its header value rendered per exchange; then `wireTail`. The literal runs hold the status
    /// line when `status` is set, whole header lines whose value is constant, each value's
    /// `name: ` and the CRLF after it, and, in the tail, `content-length: `.
    let wirePieces: [WirePiece]
    let wireTail: [UInt8]

    struct WirePiece: Sendable {
        let bytes: [UInt8]
        let value: Template
    }

    public init(
        templateName: String?, status: Int?, headers: [(name: String, value: Template)], body: Template?,
        location: SourceLocation
    ) {
        self.templateName = templateName
        self.status = status
        self.headers = headers
        self.body = body
        self.location = location
        var literal: [UInt8] = []
        if let status { Self.appendStatusLine(status, to: &literal) }
        var pieces: [WirePiece] = []
        for (name, value) in headers {
            literal.append(contentsOf: "\(name): ".utf8)
            if let constant = value.constantBytes {
                literal.append(contentsOf: constant)
            } else {
                pieces.append(WirePiece(bytes: literal, value: value))
                literal = []
            }
            literal.appendLiteral("\r\n")
        }
        literal.appendLiteral("content-length: ")
        wirePieces = pieces
        wireTail = literal
    }

    /// The response a request-phase rule sends: its templates without the variables that
    /// describe a response (`Template.withoutResponseVariables`). A new template, as a named one
    /// may also serve response-phase rules; `self` when nothing changes.
    func withoutResponseVariables() -> ResponseTemplate {
        let newHeaders = headers.map { (name: $0.name, value: $0.value.withoutResponseVariables()) }
        let newBody = body?.withoutResponseVariables()
        let unchanged = newBody === body && zip(newHeaders, headers).allSatisfy { $0.value === $1.value }
        if unchanged { return self }
        return ResponseTemplate(
            templateName: templateName, status: status, headers: newHeaders, body: newBody, location: location)
    }

    /// `HTTP/1.1 <status> <reason>` and CRLF.
    static func appendStatusLine(_ status: Int, to output: inout [UInt8]) {
        output.appendLiteral("HTTP/1.1 ")
        ValueFormatting.appendDecimal(status, to: &output)
        output.append(UInt8(ascii: " "))
        output.append(contentsOf: HTTPReason.phrase(status).utf8)
        output.appendLiteral("\r\n")
    }
}

/// The `record` action: statistics under a key rendered per exchange.
///
/// A class, as `ResponseTemplate` is: reading it off its rule for every recorded exchange
/// copied the key template's references.
public final class RecordAction: Sendable {
    public static let defaultHistory = 10
    public static let defaultMaximumKeys = 1000

    public let key: Template
    /// How many recent exchanges to keep per key.
    public let history: Int
    /// Distinct keys per rule; exchanges beyond go to the key `(other)`.
    public let maximumKeys: Int

    init(key: Template, history: Int, maximumKeys: Int) {
        self.key = key
        self.history = history
        self.maximumKeys = maximumKeys
    }
}
