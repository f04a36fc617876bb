import AttacheRules

extension RuntimeStatus {
    /// The `/rules` document: the rule set in use (generation, SHA-256 of its sources, files,
    /// every rule with its position, phase and actions) and the last reload attempt.
    public func rulesJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("phase")
        writer.string(phase.rawValue)
        if let rules {
            writer.key("path")
            writer.string(rules.path)
            writer.key("generation")
            writer.int(rules.generation)
            writer.key("sha256")
            writer.string(rules.digest)
            writer.key("loaded_at")
            writer.time(epochNanoseconds: rules.epochNanoseconds)
            writer.key("files")
            writer.beginArray()
            for file in rules.files { writer.string(file) }
            writer.endArray()
            writer.key("body_files")
            writer.beginArray()
            for file in rules.bodyFiles { writer.string(file) }
            writer.endArray()
            writer.key("rules")
            writer.beginArray()
            for rule in rules.rules { Self.write(rule, to: &writer) }
            writer.endArray()
            writer.key("warnings")
            Self.write(rules.warnings, to: &writer)
        }
        writer.key("last_reload")
        if let attempt = lastReload {
            writer.beginObject()
            writer.key("time")
            writer.time(epochNanoseconds: attempt.epochNanoseconds)
            writer.key("result")
            writer.string(attempt.succeeded ? "success" : "failure")
            writer.key("diagnostics")
            Self.write(attempt.diagnostics, to: &writer)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.endObject()
        return writer.bytes
    }

    private static func write(_ rule: Rule, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("name")
        writer.string(rule.name)
        writer.key("location")
        writer.string(rule.location.description)
        writer.key("phase")
        writer.string(rule.phase.rawValue)
        writer.key("actions")
        writer.beginArray()
        for action in rule.actionNames { writer.string(action) }
        writer.endArray()
        if let respond = rule.respond {
            writer.key("respond")
            writer.beginObject()
            writer.key("template")
            if let name = respond.templateName { writer.string(name) } else { writer.null() }
            writer.key("status")
            if let status = respond.status { writer.int(status) } else { writer.null() }
            writer.endObject()
        }
        if let record = rule.record {
            writer.key("record")
            writer.beginObject()
            writer.key("key")
            writer.string(record.key.text)
            writer.key("history")
            writer.int(record.history)
            writer.key("max_keys")
            writer.int(record.maximumKeys)
            writer.endObject()
        }
        if let log = rule.log {
            writer.key("log")
            writer.string(log.text)
        }
        writer.endObject()
    }

    /// Diagnostics as objects: `rendered` is the compiler-style line (`file:line:col: …`).
    private static func write(_ diagnostics: [Diagnostic], to writer: inout JSONWriter) {
        writer.beginArray()
        for diagnostic in diagnostics {
            writer.beginObject()
            writer.key("severity")
            writer.string(diagnostic.severity.rawValue)
            writer.key("code")
            writer.string(diagnostic.code.rawValue)
            writer.key("message")
            writer.string(diagnostic.message)
            writer.key("location")
            if let location = diagnostic.location { writer.string(location.description) } else { writer.null() }
            writer.key("rendered")
            writer.string(diagnostic.description)
            writer.endObject()
        }
        writer.endArray()
    }
}
