import AttacheRules

/// `attache lint --format json`: one object with each rule set checked and every diagnostic.
struct LintReport {
    var sets: [(path: String, outcome: RuleLoader.Outcome)]

    func json() -> String {
        var out: [UInt8] = []
        func string(_ text: String) { Escaping.appendJSONStringLiteral(text, to: &out) }
        func raw(_ text: String) { out.append(contentsOf: text.utf8) }
        let diagnostics = sets.flatMap(\.outcome.diagnostics)
        raw("{\"sets\":[")
        for (index, set) in sets.enumerated() {
            if index > 0 { raw(",") }
            raw("{\"path\":")
            string(set.path)
            raw(",\"files\":[")
            for (fileIndex, file) in set.outcome.files.enumerated() {
                if fileIndex > 0 { raw(",") }
                string(file)
            }
            raw("],\"rules\":\(set.outcome.table.map { String($0.rules.count) } ?? "null")")
            raw(",\"valid\":\(set.outcome.table != nil)}")
        }
        raw("],\"diagnostics\":[")
        for (index, diagnostic) in diagnostics.enumerated() {
            if index > 0 { raw(",") }
            raw("{")
            location(diagnostic.location, into: &out)
            raw("\"severity\":")
            string(diagnostic.severity.rawValue)
            raw(",\"code\":")
            string(diagnostic.code.rawValue)
            raw(",\"title\":")
            string(diagnostic.code.title)
            raw(",\"message\":")
            string(diagnostic.message)
            raw(",\"notes\":[")
            for (noteIndex, note) in diagnostic.notes.enumerated() {
                if noteIndex > 0 { raw(",") }
                raw("{")
                location(note.location, into: &out)
                raw("\"message\":")
                string(note.message)
                raw("}")
            }
            raw("]}")
        }
        raw("],\"errors\":\(diagnostics.errorCount),\"warnings\":\(diagnostics.warningCount)}")
        return String(decoding: out, as: UTF8.self)
    }

    private func location(_ location: SourceLocation?, into out: inout [UInt8]) {
        guard let location else {
            out.append(contentsOf: "\"file\":null,\"line\":null,\"column\":null,".utf8)
            return
        }
        out.append(contentsOf: "\"file\":".utf8)
        Escaping.appendJSONStringLiteral(location.file, to: &out)
        out.append(contentsOf: ",\"line\":\(location.line),\"column\":\(location.column),".utf8)
    }
}
