/// Every key the rule language accepts, mapping by mapping. The decoder checks files against
/// these lists (unknown keys are A101, with a suggestion), and a test checks that
/// docs/rules.schema.json, which editors use, lists exactly the same keys.
public enum RuleLanguageKeys {
    public static let topLevel = ["version", "templates", "rules"]
    public static let rule = ["name", "description", "when", "respond", "record", "log"]
    public static let when = ["status", "method", "path", "headers", "origin"]
    /// `path: {prefix: …}` or `path: {regex: …}`.
    public static let pathPattern = ["prefix", "regex"]
    /// `headers: {NAME: {regex: …}}` or `{present: …}`.
    public static let headerCondition = ["regex", "present"]
    public static let record = ["key", "history", "max_keys"]
    /// An inline `respond:` mapping or a named template.
    public static let response = ["status", "headers", "body", "body_file"]
}
