/// A decoded rule set: every rule in order, the named templates, and where they came from.
public struct RuleSet: Sendable {
    public let rules: [Rule]
    public let templates: [String: ResponseTemplate]
    /// The rule files, in load order (display paths).
    public let files: [String]
    /// Files read for `body_file`, in the order first referenced.
    public let bodyFiles: [String]
    /// SHA-256 (hex) over every file's name and bytes, body files included: equal digests mean
    /// equal behaviour.
    public let digest: String
    public let requestHeaderNames: [String]
    public let responseHeaderNames: [String]

    public init(
        rules: [Rule], templates: [String: ResponseTemplate], files: [String], bodyFiles: [String], digest: String,
        requestHeaderNames: [String], responseHeaderNames: [String]
    ) {
        self.rules = rules
        self.templates = templates
        self.files = files
        self.bodyFiles = bodyFiles
        self.digest = digest
        self.requestHeaderNames = requestHeaderNames
        self.responseHeaderNames = responseHeaderNames
    }

    public static let empty = RuleSet(
        rules: [], templates: [:], files: [], bodyFiles: [], digest: SHA256.hex(of: []), requestHeaderNames: [],
        responseHeaderNames: [])

    public func rule(named name: String) -> Rule? {
        rules.first { $0.name == name }
    }
}
