/// A transformation applied to a variable's value: `{{ request.path | url }}`.
public enum TemplateFilter: Hashable, Sendable {
    /// Escapes `& < > " '` for HTML text and attributes.
    case html
    /// Escapes for the inside of a JSON string (no surrounding quotes).
    case json
    /// Percent-encodes everything except RFC 3986 unreserved characters.
    case url
    case upper
    case lower
    /// Replaces a missing or empty value.
    case defaultValue(String)
    /// Turns off the automatic escaping chosen by the content type.
    case raw

    static let names = ["html", "json", "url", "upper", "lower", "default", "raw"]

    /// Whether the filter decides the escaping itself, replacing the content type's.
    var choosesEscaping: Bool {
        switch self {
        case .html, .json, .url, .raw: true
        case .upper, .lower, .defaultValue: false
        }
    }
}
