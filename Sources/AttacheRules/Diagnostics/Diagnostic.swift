/// One finding about a rule set: where, how bad, a stable code, and what went wrong.
///
/// Rendered the way compilers do, so editors and CI annotate it:
/// `rules/site.yaml:12:7: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]`
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    /// A secondary position that explains the primary one ("first defined here").
    public struct Note: Sendable, Hashable {
        public var location: SourceLocation?
        public var message: String

        public init(location: SourceLocation?, message: String) {
            self.location = location
            self.message = message
        }
    }

    public var severity: Severity
    public var code: DiagnosticCode
    public var message: String
    /// `nil` only for problems that belong to no file (an unreadable rules directory).
    public var location: SourceLocation?
    public var notes: [Note]

    public init(
        _ severity: Severity,
        _ code: DiagnosticCode,
        _ message: String,
        at location: SourceLocation?,
        notes: [Note] = []
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.notes = notes
    }

    public static func error(
        _ code: DiagnosticCode,
        _ message: String,
        at location: SourceLocation?,
        notes: [Note] = []
    ) -> Diagnostic {
        Diagnostic(.error, code, message, at: location, notes: notes)
    }

    public static func warning(
        _ code: DiagnosticCode,
        _ message: String,
        at location: SourceLocation?,
        notes: [Note] = []
    ) -> Diagnostic {
        Diagnostic(.warning, code, message, at: location, notes: notes)
    }

    /// The primary line, `file:line:col: severity: message [CODE]`, without notes.
    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return "\(prefix)\(severity.rawValue): \(message) [\(code.rawValue)]"
    }

    /// The primary line followed by one `file:line:col: note: …` line per note.
    public var renderedWithNotes: String {
        var lines = [description]
        for note in notes {
            let prefix = note.location.map { "\($0): " } ?? ""
            lines.append("\(prefix)note: \(note.message)")
        }
        return lines.joined(separator: "\n")
    }
}

extension Array where Element == Diagnostic {
    public var errorCount: Int { self.lazy.filter { $0.severity == .error }.count }
    public var warningCount: Int { self.lazy.filter { $0.severity == .warning }.count }
    public var hasErrors: Bool { self.contains { $0.severity == .error } }

    /// Diagnostics in reading order: by file, line and column; file-less ones first.
    public func sortedByLocation() -> [Diagnostic] {
        self.enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return true
            case (_, nil): return false
            case (let l?, let r?): return l == r ? a.offset < b.offset : l < r
            }
        }.map(\.element)
    }
}
