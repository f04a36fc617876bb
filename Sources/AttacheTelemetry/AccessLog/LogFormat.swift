/// How attache writes its access log and its own messages.
public enum LogFormat: String, Sendable, CaseIterable {
    /// Access log: the rendered `log` template, one line each. Messages: `attache: …`.
    case text
    /// One JSON object per line, with the structured fields beside the message.
    case json
}
