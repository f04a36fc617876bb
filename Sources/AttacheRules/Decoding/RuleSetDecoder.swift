/// Decodes the YAML trees of a rule set's files into a `RuleSet`, reporting every problem it can
/// find (it does not stop at the first) with `file:line:col`.
///
/// Templates are decoded first, across all files, so a rule may use a template defined in any
/// file; rules are then decoded in file order. The semantic lint (`ShadowAnalysis`) runs last.
final class RuleSetDecoder {
    struct FileInput {
        var file: SourceFile
        var root: YAMLNode?
    }

    private struct NamedTemplate {
        var template: ResponseTemplate
        var nameLocation: SourceLocation
        var used = false
    }

    var diagnostics: [Diagnostic] = []
    let headerSlots = HeaderSlotRegistry()
    /// Canonical path of the rules directory; `body_file` must resolve inside it.
    let rulesRoot: String?
    private var templates: [String: NamedTemplate] = [:]
    /// Templates that failed to decode: already reported, so rules using them add no error.
    private var brokenTemplates: Set<String> = []
    private(set) var bodyFiles: [(path: String, bytes: [UInt8])] = []
    private var ruleNames: [String: SourceLocation] = [:]
    /// Compiled regexes by pattern: compiling is the most expensive step of loading.
    private var regexes: [String: PathRegex] = [:]

    static let maximumBodyFileSize = 1 << 20

    init(rulesRoot: String?) {
        self.rulesRoot = rulesRoot
    }

    func decode(_ inputs: [FileInput]) -> (rules: [Rule], templates: [String: ResponseTemplate]) {
        var ruleNodes: [(node: YAMLNode, file: SourceFile)] = []
        var templateNodes: [(pair: YAMLPair, file: SourceFile)] = []
        for input in inputs {
            guard let root = input.root else { continue }
            if case .scalar(let scalar) = root.content, scalar.resolved == .null { continue }
            guard let pairs = mapping(root, expected: "a mapping with 'rules' and/or 'templates'") else { continue }
            checkKeys(pairs, allowed: RuleLanguageKeys.topLevel, in: "the top level")
            for pair in pairs {
                switch pair.name {
                case "version":
                    if pair.value.scalar?.resolved != .int(1) && pair.value.scalar?.resolved != .string("1") {
                        diagnostics.append(
                            .error(
                                .unsupportedVersion,
                                "unsupported rules version \(describe(pair.value)); this attache reads version 1",
                                at: pair.value.location))
                    }
                case "templates":
                    if let entries = mapping(pair.value, expected: "a mapping of template names to responses") {
                        templateNodes += entries.map { ($0, input.file) }
                    }
                case "rules":
                    if case .scalar(let scalar) = pair.value.content, scalar.resolved == .null { continue }
                    if let items = sequence(pair.value, expected: "a list of rules") {
                        ruleNodes += items.map { ($0, input.file) }
                    }
                default:
                    break
                }
            }
        }

        for (pair, file) in templateNodes {
            let name = pair.name
            if let previous = templates[name] {
                diagnostics.append(
                    .error(
                        .duplicateTemplateName, "template '\(name)' is defined twice", at: pair.key.location,
                        notes: [.init(location: previous.nameLocation, message: "'\(name)' first defined here")]))
                continue
            }
            guard let template = decodeResponse(pair.value, file: file, templateName: name) else {
                brokenTemplates.insert(name)
                continue
            }
            templates[name] = NamedTemplate(template: template, nameLocation: pair.key.location)
        }

        var rules: [Rule] = []
        rules.reserveCapacity(ruleNodes.count)
        for (node, file) in ruleNodes {
            if let rule = decodeRule(node, file: file, index: rules.count) {
                rules.append(rule)
            }
        }

        for (name, template) in templates.sorted(by: { $0.value.nameLocation < $1.value.nameLocation })
        where !template.used {
            diagnostics.append(
                .warning(.unusedTemplate, "template '\(name)' is not used by any rule", at: template.nameLocation))
        }
        return (rules, templates.mapValues(\.template))
    }

    // MARK: Rules

    private func decodeRule(_ node: YAMLNode, file: SourceFile, index: Int) -> Rule? {
        guard let pairs = mapping(node, expected: "a rule (a mapping with 'name' and actions)") else { return nil }
        checkKeys(pairs, allowed: RuleLanguageKeys.rule, in: "a rule")
        let errorsBefore = diagnostics.errorCount

        var name: String? = nil
        if let nameNode = pairs.first(where: { $0.name == "name" })?.value {
            if let text = string(nameNode, expected: "a rule name") {
                if text.isEmpty || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                    diagnostics.append(
                        .error(.wrongType, "a rule name must be non-empty text on one line", at: nameNode.location))
                } else if let first = ruleNames[text] {
                    diagnostics.append(
                        .error(
                            .duplicateRuleName, "rule name '\(text)' is already used", at: nameNode.location,
                            notes: [.init(location: first, message: "'\(text)' first used here")]))
                } else {
                    ruleNames[text] = nameNode.location
                }
                name = text
            }
        } else {
            diagnostics.append(.error(.missingKey, "rule has no 'name'", at: node.location))
        }
        if let description = pairs.first(where: { $0.name == "description" })?.value {
            _ = string(description, expected: "a description")
        }

        var conditions = Conditions()
        if let when = pairs.first(where: { $0.name == "when" })?.value {
            conditions = decodeConditions(when)
        }
        let phase: Rule.Phase = conditions.statuses == nil && conditions.origins == nil ? .request : .response
        let ruleName = name ?? "?"

        var respond: ResponseTemplate? = nil
        if let respondNode = pairs.first(where: { $0.name == "respond" })?.value {
            respond = decodeRespond(respondNode, file: file, phase: phase, ruleName: ruleName, conditions: conditions)
        }
        var record: RecordAction? = nil
        var recordDisabled = false
        if let recordNode = pairs.first(where: { $0.name == "record" })?.value {
            if recordNode.scalar?.resolved == .bool(false) {
                recordDisabled = true
            } else {
                record = decodeRecord(recordNode, conditions: conditions)
            }
        }
        var log: Template? = nil
        if let logNode = pairs.first(where: { $0.name == "log" })?.value {
            log = template(logNode, use: .logLine)
            if let log { checkCaptures(log, node: logNode, conditions: conditions, ruleName: ruleName) }
        }
        let hasActionKey = pairs.contains { ["respond", "record", "log"].contains($0.name) }
        if !hasActionKey || (recordDisabled && !pairs.contains { ["respond", "log"].contains($0.name) }) {
            diagnostics.append(
                .error(
                    .noAction, "rule '\(ruleName)' has no action: add 'respond', 'record' or 'log'",
                    at: node.location))
        }
        guard diagnostics.errorCount == errorsBefore, let name else { return nil }
        return Rule(
            index: index, name: name, location: node.location, conditions: conditions, respond: respond,
            record: record, log: log)
    }

    private func decodeRecord(_ node: YAMLNode, conditions: Conditions) -> RecordAction? {
        let defaultKey = "{{ request.path }}"
        switch node.content {
        case .scalar(let scalar):
            switch scalar.resolved {
            case .bool(true):
                return RecordAction(
                    key: (try? TemplateParser(headerSlots: headerSlots).parse(defaultKey, use: .key))
                        ?? .constant(defaultKey, use: .key),
                    history: RecordAction.defaultHistory, maximumKeys: RecordAction.defaultMaximumKeys)
            case .string:
                guard let key = template(node, use: .key) else { return nil }
                checkCaptures(key, node: node, conditions: conditions, ruleName: nil)
                return RecordAction(
                    key: key, history: RecordAction.defaultHistory, maximumKeys: RecordAction.defaultMaximumKeys)
            default:
                break
            }
        case .mapping:
            guard let pairs = mapping(node, expected: "") else { return nil }
            checkKeys(pairs, allowed: RuleLanguageKeys.record, in: "'record'")
            var key: Template? = try? TemplateParser(headerSlots: headerSlots).parse(defaultKey, use: .key)
            var history = RecordAction.defaultHistory
            var maximumKeys = RecordAction.defaultMaximumKeys
            for pair in pairs {
                switch pair.name {
                case "key":
                    key = template(pair.value, use: .key)
                    if let key { checkCaptures(key, node: pair.value, conditions: conditions, ruleName: nil) }
                case "history":
                    history = recordOption(pair, in: 0...1000, expected: "a number of exchanges") ?? history
                case "max_keys":
                    maximumKeys = recordOption(pair, in: 1...100_000, expected: "a number of keys") ?? maximumKeys
                default:
                    break
                }
            }
            guard let key else { return nil }
            return RecordAction(key: key, history: history, maximumKeys: maximumKeys)
        case .sequence:
            break
        }
        diagnostics.append(
            .error(
                .wrongType,
                "expected true, a key template, or a mapping with 'key', 'history' and 'max_keys' for 'record', found \(node.kindDescription)",
                at: node.location))
        return nil
    }

    /// A `record` option's number, reported (A123) when outside `range`.
    private func recordOption(_ pair: YAMLPair, in range: ClosedRange<Int>, expected: String) -> Int? {
        guard let value = integer(pair.value, expected: expected) else { return nil }
        guard range.contains(value) else {
            diagnostics.append(
                .error(
                    .invalidRecordOption,
                    "\(pair.name) must be between \(range.lowerBound) and \(range.upperBound), not \(value)",
                    at: pair.value.location))
            return nil
        }
        return value
    }

    // MARK: Responses

    private func decodeRespond(
        _ node: YAMLNode, file: SourceFile, phase: Rule.Phase, ruleName: String, conditions: Conditions
    ) -> ResponseTemplate? {
        let response: ResponseTemplate
        switch node.content {
        case .scalar(let scalar):
            guard case .string(let name) = scalar.resolved else {
                diagnostics.append(
                    .error(
                        .wrongType,
                        "expected a template name or a response mapping for 'respond', found \(node.kindDescription)",
                        at: node.location))
                return nil
            }
            guard let named = templates[name] else {
                if brokenTemplates.contains(name) { return nil }
                diagnostics.append(
                    .error(
                        .unknownTemplate,
                        "unknown template '\(name)'\(Suggestions.didYouMean(name, among: (Array(templates.keys) + brokenTemplates).sorted()))",
                        at: node.location))
                return nil
            }
            templates[name]?.used = true
            response = named.template
        case .mapping:
            guard let inline = decodeResponse(node, file: file, templateName: nil) else { return nil }
            response = inline
        case .sequence:
            diagnostics.append(
                .error(
                    .wrongType, "expected a template name or a response mapping for 'respond', found a list",
                    at: node.location))
            return nil
        }
        if phase == .request, response.status == nil {
            diagnostics.append(
                .error(
                    .missingResponseStatus,
                    "rule '\(ruleName)' answers before the upstream is asked, so its response needs a 'status'",
                    at: node.location,
                    notes: response.templateName == nil
                        ? [] : [.init(location: response.location, message: "template defined here")]))
        }
        var templatesUsed = response.headers.map(\.value)
        if let body = response.body { templatesUsed.append(body) }
        for template in templatesUsed {
            for (variable, offset) in template.variables {
                if phase == .request, variable.needsResponse {
                    diagnostics.append(
                        .warning(
                            .variableUnavailable,
                            "'\(variable.name)' has no value here: rule '\(ruleName)' answers before there is a response",
                            at: templateLocation(template, offset: offset, fallback: response.location)))
                }
                if case .pathCapture(let capture) = variable, !conditions.captureNames.contains(capture) {
                    diagnostics.append(
                        .warning(
                            .captureUnavailable,
                            "'path.\(capture)' has no value here: the path of rule '\(ruleName)' captures no '{\(capture)}'",
                            at: templateLocation(template, offset: offset, fallback: response.location)))
                }
            }
        }
        // What A204 warns about is what renders: nothing (for the relay and explain alike).
        return phase == .request ? response.withoutResponseVariables() : response
    }

    /// A response mapping (`status`, `headers`, `body` or `body_file`), inline or named.
    private func decodeResponse(_ node: YAMLNode, file: SourceFile, templateName: String?) -> ResponseTemplate? {
        let what = templateName.map { "template '\($0)'" } ?? "'respond'"
        guard let pairs = mapping(node, expected: "a response (status, headers, body)") else { return nil }
        checkKeys(pairs, allowed: RuleLanguageKeys.response, in: what)
        let errorsBefore = diagnostics.errorCount

        var status: Int? = nil
        if let statusNode = pairs.first(where: { $0.name == "status" })?.value {
            if let value = integer(statusNode, expected: "a status code") {
                if (200...599).contains(value) {
                    status = value
                } else {
                    diagnostics.append(
                        .error(
                            .invalidResponseStatus,
                            "a response status must be between 200 and 599, not \(value)", at: statusNode.location))
                }
            }
        }

        var headers: [(name: String, value: Template)] = []
        var contentType: (text: String, isConstant: Bool)? = nil
        if let headersNode = pairs.first(where: { $0.name == "headers" })?.value,
            let headerPairs = mapping(headersNode, expected: "a mapping of header names to values")
        {
            for (name, pair) in headerEntries(headerPairs, duplicate: "is set twice", first: "first set here") {
                if Self.managedHeaders.contains(name) {
                    diagnostics.append(
                        .error(
                            .managedHeader,
                            "'\(name)' is set by attache (framing and connection handling); remove it",
                            at: pair.key.location))
                    continue
                }
                guard let text = scalarText(pair.value, expected: "a header value") else { continue }
                if let bad = text.unicodeScalars.firstIndex(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F })
                {
                    let offset = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: bad)
                    diagnostics.append(
                        .error(
                            .invalidHeaderValue, "header values cannot contain control characters (CR, LF, NUL, …)",
                            at: pair.value.scalar?.location(ofScalarOffset: offset, fallback: pair.value.location)
                                ?? pair.value.location))
                    continue
                }
                guard let value = template(pair.value, use: .headerValue) else { continue }
                if name == "content-type" { contentType = (text, value.isConstant) }
                headers.append((name, value))
            }
        }

        let bodyNode = pairs.first(where: { $0.name == "body" })?.value
        let bodyFileNode = pairs.first(where: { $0.name == "body_file" })?.value
        if bodyNode != nil, let bodyFileNode {
            diagnostics.append(
                .error(
                    .bodyAndBodyFile, "\(what) has both 'body' and 'body_file'; keep one", at: bodyFileNode.location))
        }
        let hasBody = bodyNode != nil || bodyFileNode != nil
        if hasBody, contentType == nil {
            let value = Template.constant("text/plain; charset=utf-8", use: .headerValue)
            headers.append(("content-type", value))
            contentType = (value.text, true)
        }
        if let contentType, !contentType.isConstant {
            diagnostics.append(
                .warning(
                    .dynamicContentType,
                    "content-type is a template, so values in the body are not escaped for it; use a fixed content-type",
                    at: pairs.first { $0.name.lowercased() == "headers" }?.value.location ?? node.location))
        }
        let escaping: TemplateUse.BodyEscaping =
            contentType.map { $0.isConstant ? .forContentType($0.text) : .none } ?? .none

        var body: Template? = nil
        if let bodyNode, bodyFileNode == nil {
            body = template(bodyNode, use: .body(escaping))
        } else if let bodyFileNode, bodyNode == nil {
            body = bodyFile(bodyFileNode, file: file, use: .body(escaping))
        }
        if let status, status == 204 || status == 304, hasBody {
            diagnostics.append(
                .error(
                    .bodyNotAllowed, "status \(status) responses have no body (RFC 9110 §15.3.5, §15.4.5)",
                    at: (bodyNode ?? bodyFileNode ?? node).location))
        }
        guard diagnostics.errorCount == errorsBefore else { return nil }
        return ResponseTemplate(
            templateName: templateName, status: status, headers: headers, body: body, location: node.location)
    }

    /// Fields attache writes itself; a template setting them would break framing or keep-alive.
    static let managedHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "trailer",
        "upgrade",
    ]

    private func bodyFile(_ node: YAMLNode, file: SourceFile, use: TemplateUse) -> Template? {
        guard let relative = string(node, expected: "a file path") else { return nil }
        let candidate = FileSystem.join(FileSystem.directoryName(file.path), relative)
        guard let resolved = FileSystem.realPath(candidate), FileSystem.kind(of: resolved) == .file else {
            diagnostics.append(
                .error(.bodyFileUnreadable, "body_file '\(relative)' does not exist (looked for '\(candidate)')",
                       at: node.location))
            return nil
        }
        if let rulesRoot, !(resolved.hasPrefix(rulesRoot.hasSuffix("/") ? rulesRoot : rulesRoot + "/")) {
            diagnostics.append(
                .error(
                    .bodyFileOutsideRules,
                    "body_file '\(relative)' resolves to '\(resolved)', outside the rules directory '\(rulesRoot)'",
                    at: node.location))
            return nil
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(resolved, limit: Self.maximumBodyFileSize)
        } catch {
            diagnostics.append(.error(.bodyFileUnreadable, error.description, at: node.location))
            return nil
        }
        if bytes.count > Self.maximumBodyFileSize {
            diagnostics.append(
                .error(
                    .bodyFileUnreadable,
                    "body_file '\(relative)' is larger than \(Self.maximumBodyFileSize) bytes", at: node.location))
            return nil
        }
        if let problem = UTF8Check.firstProblem(in: bytes) {
            diagnostics.append(
                .error(.bodyFileUnreadable, "body_file '\(relative)': \(problem.message)", at: node.location))
            return nil
        }
        bodyFiles.append((candidate, bytes))
        let source = SourceFile(path: candidate, bytes: bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        let origin = TemplateOrigin.file(source)
        do {
            return try TemplateParser(headerSlots: headerSlots).parse(text, use: use, origin: origin)
        } catch {
            diagnostics.append(
                .error(error.code, error.message, at: origin.location(ofScalarOffset: error.offset) ?? node.location))
            return nil
        }
    }

    /// A compiled regex, shared by every condition that writes the same pattern.
    func compileRegex(_ pattern: String) throws(PathRegex.CompileError) -> PathRegex {
        if let cached = regexes[pattern] { return cached }
        let regex = try PathRegex(pattern)
        regexes[pattern] = regex
        return regex
    }

    // MARK: Templates

    /// Compiles a scalar as a template; errors point inside the scalar.
    func template(_ node: YAMLNode, use: TemplateUse) -> Template? {
        guard let text = scalarText(node, expected: "a template string"), let scalar = node.scalar else { return nil }
        let origin = TemplateOrigin.scalar(scalar, fallback: node.location)
        do {
            return try TemplateParser(headerSlots: headerSlots).parse(text, use: use, origin: origin)
        } catch {
            diagnostics.append(
                .error(error.code, error.message, at: origin.location(ofScalarOffset: error.offset) ?? node.location))
            return nil
        }
    }

    /// Where a template's `offset` is in its file.
    private func templateLocation(_ template: Template, offset: Int, fallback: SourceLocation) -> SourceLocation {
        template.origin?.location(ofScalarOffset: offset) ?? fallback
    }

    private func checkCaptures(_ template: Template, node: YAMLNode, conditions: Conditions, ruleName: String?) {
        for (variable, offset) in template.variables {
            if case .pathCapture(let capture) = variable, !conditions.captureNames.contains(capture) {
                diagnostics.append(
                    .warning(
                        .captureUnavailable, "'path.\(capture)' has no value here: this rule's path captures no '{\(capture)}'",
                        at: node.scalar?.location(ofScalarOffset: offset, fallback: node.location) ?? node.location))
            }
        }
    }
}
