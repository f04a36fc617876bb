/// Supplies variable values while a template renders.
///
/// The relay implements it over the bytes of the exchange it is handling; `ExchangeFacts` is the
/// plain-value implementation used by `attache explain` and the tests.
public protocol TemplateContext {
    /// Appends the raw (unescaped) value of `variable`; returns `false` when it has no value.
    func appendValue(of variable: TemplateVariable, to output: inout [UInt8]) -> Bool
}

/// Where a rendered template ends up, which decides how inserted values are made safe.
public enum TemplateUse: Sendable, Hashable {
    /// A response body: escaped for its content type (HTML, JSON, or not at all).
    case body(BodyEscaping)
    /// A header value: control characters (CR, LF, NUL, …) become spaces, whatever the filters.
    case headerValue
    /// An access-log line: control characters and backslashes in values are written as escapes.
    case logLine
    /// A statistics key: inserted as is (the stats outputs escape on their own).
    case key

    public enum BodyEscaping: Sendable, Hashable {
        case html
        case json
        case none

        /// The escaping for a `content-type` value: HTML for `text/html` and XHTML, JSON for
        /// `application/json` and `+json` types, nothing otherwise.
        public static func forContentType(_ contentType: String) -> BodyEscaping {
            let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingWhitespace().lowercased()
            } ?? ""
            if mediaType == "text/html" || mediaType == "application/xhtml+xml" { return .html }
            if mediaType == "application/json" || mediaType.hasSuffix("+json") { return .json }
            return .none
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
