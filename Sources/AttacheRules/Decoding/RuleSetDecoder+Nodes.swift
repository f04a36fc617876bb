/// Typed access to YAML nodes, reporting "expected …, found …" at the node when the type is wrong.
extension RuleSetDecoder {
    /// The entries of a mapping, with YAML merge keys (`<<: *defaults`) applied: keys written
    /// in the mapping win over merged ones.
    func mapping(_ node: YAMLNode, expected: String) -> [YAMLPair]? {
        guard let pairs = node.mapping else {
            diagnostics.append(
                .error(.wrongType, "expected \(expected), found \(node.kindDescription)", at: node.location))
            return nil
        }
        guard pairs.contains(where: { $0.name == "<<" && $0.key.scalar?.style == .plain }) else { return pairs }
        var result = pairs.filter { !($0.name == "<<" && $0.key.scalar?.style == .plain) }
        var present = Set(result.map(\.name))
        for pair in pairs where pair.name == "<<" && pair.key.scalar?.style == .plain {
            let sources = pair.value.sequence ?? [pair.value]
            for source in sources {
                guard let merged = source.mapping else {
                    diagnostics.append(
                        .error(
                            .unsupportedYAML, "'<<' merges a mapping or a list of mappings, not \(source.kindDescription)",
                            at: source.location))
                    continue
                }
                for entry in merged where !present.contains(entry.name) {
                    present.insert(entry.name)
                    result.append(entry)
                }
            }
        }
        return result
    }

    func sequence(_ node: YAMLNode, expected: String) -> [YAMLNode]? {
        guard let items = node.sequence else {
            diagnostics.append(
                .error(.wrongType, "expected \(expected), found \(node.kindDescription)", at: node.location))
            return nil
        }
        return items
    }

    /// A scalar that resolves to a string (quoted, or plain text that is not a number/boolean).
    func string(_ node: YAMLNode, expected: String) -> String? {
        if case .scalar(let scalar) = node.content, case .string(let text) = scalar.resolved { return text }
        diagnostics.append(.error(.wrongType, "expected \(expected), found \(node.kindDescription)", at: node.location))
        return nil
    }

    /// Any non-null scalar, as written: `retry-after: 120` is the text "120".
    func scalarText(_ node: YAMLNode, expected: String) -> String? {
        if case .scalar(let scalar) = node.content, scalar.resolved != .null { return scalar.value }
        diagnostics.append(.error(.wrongType, "expected \(expected), found \(node.kindDescription)", at: node.location))
        return nil
    }

    /// An integer, plain or quoted (`404` or `"404"`).
    func integer(_ node: YAMLNode, expected: String) -> Int? {
        if case .scalar(let scalar) = node.content {
            switch scalar.resolved {
            case .int(let value): return value
            case .string(let text): if let value = Int(text) { return value }
            default: break
            }
        }
        diagnostics.append(.error(.wrongType, "expected \(expected), found \(node.kindDescription)", at: node.location))
        return nil
    }

    /// Reports every key not in `allowed`, suggesting the closest allowed one.
    func checkKeys(_ pairs: [YAMLPair], allowed: [String], in context: String) {
        for pair in pairs where !allowed.contains(pair.name) {
            diagnostics.append(
                .error(
                    .unknownKey,
                    "unknown key '\(pair.name)' in \(context)\(Suggestions.didYouMean(pair.name, among: allowed))",
                    at: pair.key.location))
        }
    }

    /// The entries of a mapping keyed by header name, lower-cased: invalid names (A117) and
    /// names repeated in another case (A002) are reported and left out.
    func headerEntries(_ pairs: [YAMLPair], duplicate: String, first: String) -> [(name: String, pair: YAMLPair)] {
        var entries: [(name: String, pair: YAMLPair)] = []
        var seen: [String: SourceLocation] = [:]
        for pair in pairs {
            let name = pair.name.lowercased()
            guard HTTPToken.isToken(name) else {
                diagnostics.append(
                    .error(.invalidHeaderName, "'\(pair.name)' is not a valid header name", at: pair.key.location))
                continue
            }
            if let earlier = seen[name] {
                diagnostics.append(
                    .error(
                        .duplicateKey, "header '\(name)' \(duplicate) (names are case-insensitive)",
                        at: pair.key.location, notes: [.init(location: earlier, message: first)]))
                continue
            }
            seen[name] = pair.key.location
            entries.append((name, pair))
        }
        return entries
    }

    /// A value for messages: the scalar text quoted, or its kind.
    func describe(_ node: YAMLNode) -> String {
        if let scalar = node.scalar, scalar.resolved != .null { return "'\(scalar.value)'" }
        return node.kindDescription
    }

    /// A value or a list of values: `GET` or `[GET, HEAD]`. An empty list is an error.
    func oneOrMany(_ node: YAMLNode, what: String) -> [YAMLNode]? {
        guard let items = node.sequence else { return [node] }
        if items.isEmpty {
            diagnostics.append(.error(.emptyList, "an empty list of \(what) matches nothing", at: node.location))
            return nil
        }
        return items
    }
}
