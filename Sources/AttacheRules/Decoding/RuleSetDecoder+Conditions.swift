/// Decoding of a rule's `when` block.
extension RuleSetDecoder {
    func decodeConditions(_ node: YAMLNode) -> Conditions {
        var conditions = Conditions()
        conditions.location = node.location
        guard let pairs = mapping(node, expected: "a mapping of conditions (status, method, path, headers, origin)")
        else { return conditions }
        checkKeys(pairs, allowed: RuleLanguageKeys.when, in: "'when'")
        for pair in pairs {
            switch pair.name {
            case "status": conditions.statuses = decodeStatuses(pair.value)
            case "method": conditions.methods = decodeMethods(pair.value)
            case "path": conditions.paths = decodePaths(pair.value)
            case "headers": conditions.headers = decodeHeaders(pair.value)
            case "origin": conditions.origins = decodeOrigins(pair.value)
            default: break
            }
        }
        return conditions
    }

    private func decodeStatuses(_ node: YAMLNode) -> StatusSet? {
        guard let items = oneOrMany(node, what: "statuses") else { return nil }
        var set = StatusSet()
        var valid = true
        for item in items {
            let text: String
            switch item.scalar?.resolved {
            case .int(let value): text = String(value)
            case .string(let value): text = value
            default:
                diagnostics.append(
                    .error(
                        .wrongType,
                        "expected a status (404, \"4xx\", \"500-599\") or a list of them, found \(item.kindDescription)",
                        at: item.location))
                valid = false
                continue
            }
            switch StatusSet.parseTerm(text) {
            case .success(let range): set.insert(range, term: text)
            case .failure(let error):
                diagnostics.append(.error(.invalidStatus, error.message, at: item.location))
                valid = false
            }
        }
        return valid ? set : nil
    }

    private func decodeMethods(_ node: YAMLNode) -> MethodSet? {
        guard let items = oneOrMany(node, what: "methods") else { return nil }
        var set = MethodSet()
        for item in items {
            guard case .scalar(let scalar) = item.content, case .string(let name) = scalar.resolved else {
                diagnostics.append(
                    .error(
                        .wrongType, "expected a method name or a list of them, found \(item.kindDescription)",
                        at: item.location))
                return nil
            }
            guard HTTPToken.isToken(name) else {
                diagnostics.append(
                    .error(.invalidMethod, "'\(name)' is not a valid method name (RFC 9110 token)", at: item.location))
                return nil
            }
            if name != name.uppercased(), MethodSet.standard.contains(name.uppercased()) {
                diagnostics.append(
                    .warning(
                        .methodCase,
                        "method names are case-sensitive: '\(name)' never matches \(name.uppercased()) requests",
                        at: item.location))
            }
            set.insert(name)
        }
        return set
    }

    private func decodePaths(_ node: YAMLNode) -> [PathPattern]? {
        guard let items = oneOrMany(node, what: "paths") else { return nil }
        var patterns: [PathPattern] = []
        for item in items {
            if let pattern = decodePath(item) { patterns.append(pattern) }
        }
        return patterns.count == items.count ? patterns : nil
    }

    private func decodePath(_ node: YAMLNode) -> PathPattern? {
        switch node.content {
        case .scalar(let scalar):
            guard case .string(let text) = scalar.resolved else { break }
            do {
                return try PathPattern.glob(text)
            } catch {
                diagnostics.append(
                    .error(
                        .invalidPathPattern, error.message,
                        at: scalar.location(ofScalarOffset: error.offset, fallback: node.location)))
                return nil
            }
        case .mapping:
            guard let pairs = mapping(node, expected: "") else { return nil }
            checkKeys(pairs, allowed: RuleLanguageKeys.pathPattern, in: "'path'")
            guard pairs.count == 1, let pair = pairs.first, ["prefix", "regex"].contains(pair.name) else {
                if pairs.allSatisfy({ ["prefix", "regex"].contains($0.name) }) {
                    diagnostics.append(
                        .error(
                            .wrongType, "a path condition has exactly one of 'prefix' or 'regex'", at: node.location))
                }
                return nil
            }
            guard let scalar = pair.value.scalar, let text = string(pair.value, expected: "a string") else {
                return nil
            }
            if pair.name == "prefix" {
                do {
                    return try PathPattern.prefix(text)
                } catch {
                    diagnostics.append(
                        .error(
                            .invalidPathPattern, error.message,
                            at: scalar.location(ofScalarOffset: error.offset, fallback: pair.value.location)))
                    return nil
                }
            }
            do {
                return PathPattern(kind: .regex(try compileRegex(text)), text: text)
            } catch {
                diagnostics.append(regexDiagnostic(error, scalar: scalar, node: pair.value))
                return nil
            }
        case .sequence:
            break
        }
        diagnostics.append(
            .error(
                .wrongType,
                "expected a path pattern (\"/api/**\", {prefix: …}, {regex: …}) or a list of them, found \(node.kindDescription)",
                at: node.location))
        return nil
    }

    private func decodeHeaders(_ node: YAMLNode) -> [HeaderCondition] {
        guard let pairs = mapping(node, expected: "a mapping of header names to conditions") else { return [] }
        var conditions: [HeaderCondition] = []
        for (name, pair) in headerEntries(pairs, duplicate: "has two conditions", first: "first condition here") {
            guard let test = decodeHeaderTest(pair.value) else { continue }
            conditions.append(HeaderCondition(name: name, slot: headerSlots.requestSlot(for: name), test: test))
        }
        return conditions
    }

    private func decodeHeaderTest(_ node: YAMLNode) -> HeaderCondition.Test? {
        if case .mapping = node.content {
            guard let pairs = mapping(node, expected: "") else { return nil }
            checkKeys(pairs, allowed: RuleLanguageKeys.headerCondition, in: "a header condition")
            guard pairs.count == 1, let pair = pairs.first else {
                diagnostics.append(
                    .error(.wrongType, "a header condition has exactly one of 'regex' or 'present'", at: node.location))
                return nil
            }
            switch pair.name {
            case "regex":
                guard let text = string(pair.value, expected: "a regular expression"), let scalar = pair.value.scalar
                else { return nil }
                do {
                    return .regex(try compileRegex(text))
                } catch {
                    diagnostics.append(regexDiagnostic(error, scalar: scalar, node: pair.value))
                    return nil
                }
            case "present":
                guard case .bool(let present) = pair.value.scalar?.resolved else {
                    diagnostics.append(
                        .error(
                            .wrongType, "expected true or false for 'present', found \(pair.value.kindDescription)",
                            at: pair.value.location))
                    return nil
                }
                return .present(present)
            default:
                return nil
            }
        }
        guard let items = oneOrMany(node, what: "header values") else { return nil }
        var values: [[UInt8]] = []
        for item in items {
            guard let scalar = item.scalar, scalar.resolved != .null else {
                diagnostics.append(
                    .error(
                        .wrongType,
                        "expected a header value, a list of them, {regex: …} or {present: true|false}, found \(item.kindDescription)",
                        at: item.location))
                return nil
            }
            values.append(Array(scalar.value.utf8))
        }
        return .equals(values)
    }

    /// An A105 at the offending character of the pattern when the error has a position.
    private func regexDiagnostic(_ error: PathRegex.CompileError, scalar: YAMLScalar, node: YAMLNode) -> Diagnostic {
        let location = error.offset.map { scalar.location(ofScalarOffset: $0, fallback: node.location) } ?? node.location
        return .error(.invalidRegex, "invalid regular expression: \(error.message)", at: location)
    }

    private func decodeOrigins(_ node: YAMLNode) -> Set<Origin>? {
        guard let items = oneOrMany(node, what: "origins") else { return nil }
        var origins: Set<Origin> = []
        for item in items {
            guard case .string(let text) = item.scalar?.resolved, let origin = Origin(rawValue: text) else {
                diagnostics.append(
                    .error(
                        .invalidOrigin,
                        "origin is 'upstream' or 'proxy', not \(describe(item))\(Suggestions.didYouMean(item.scalar?.value ?? "", among: ["upstream", "proxy"]))",
                        at: item.location))
                return nil
            }
            origins.insert(origin)
        }
        return origins
    }
}
