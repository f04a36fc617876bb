/// Finds `respond` rules that can never fire because an earlier `respond` rule already answers
/// every exchange they match (first match wins). Decides the cases that are decidable: glob,
/// prefix and exact paths, method sets, status sets and ranges, origins, and header conditions
/// that are repeated verbatim. Anything it cannot prove (regexes that differ) is left alone, so
/// a warning is always true.
struct ShadowAnalysis {
    let rules: [Rule]

    func run() -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        // Only rules that share a first path segment (or start with a wildcard) can cover each
        // other, so each rule is compared with those only. Values are indices into `rules`.
        var byFirstSegment: [ByteKey: [Int]] = [:]
        var wildcards: [Int] = []
        for (position, rule) in rules.enumerated() where rule.respond != nil {
            let keys = Self.firstSegmentKeys(rule.conditions.paths)
            var candidates = wildcards
            if let keys {
                for key in keys { candidates += byFirstSegment[ByteKey(key)] ?? [] }
                if keys.count > 1 || !wildcards.isEmpty { candidates.sort() }
            }
            for earlier in candidates {
                if let finding = compare(rules[earlier], rule) {
                    diagnostics.append(finding)
                    break
                }
            }
            if let keys {
                for key in keys {
                    let key = ByteKey(key)
                    if byFirstSegment[key]?.last != position { byFirstSegment[key, default: []].append(position) }
                }
            } else {
                wildcards.append(position)
            }
        }
        return diagnostics
    }

    /// The literal first segment of every pattern, or `nil` if any pattern (or no path
    /// condition) could start with anything.
    static func firstSegmentKeys(_ paths: [PathPattern]?) -> [[UInt8]]? {
        guard let paths else { return nil }
        var keys: [[UInt8]] = []
        for pattern in paths {
            switch pattern.kind {
            case .glob(let elements):
                guard case .literal(let bytes)? = elements.first else { return nil }
                keys.append(bytes)
            case .prefix(let bytes):
                let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
                guard parts.count > 2 else { return nil }
                keys.append(Array(parts[1]))
            case .regex(let regex):
                guard let prefix = regex.literalPrefix else { return nil }
                let parts = prefix.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
                guard parts.count > 2 else { return nil }
                keys.append(Array(parts[1]))
            }
        }
        return keys
    }

    private func compare(_ earlier: Rule, _ later: Rule) -> Diagnostic? {
        let a = earlier.conditions
        let b = later.conditions
        let note = Diagnostic.Note(location: earlier.location, message: "'\(earlier.name)' is here")
        if Self.identical(a, b) {
            return .warning(
                .identicalConditions,
                "rule '\(later.name)' has the same conditions as '\(earlier.name)', which comes first and responds; '\(later.name)' never responds",
                at: later.location, notes: [note])
        }
        guard Self.coversRequest(a, b) else { return nil }
        switch (earlier.phase, later.phase) {
        case (.request, _):
            break
        case (.response, .response):
            guard Self.covers(a.statuses, b.statuses), Self.covers(a.origins, b.origins) else { return nil }
        case (.response, .request):
            return nil
        }
        return .warning(
            .unreachableRule,
            "rule '\(later.name)' never responds: '\(earlier.name)' comes first and responds to everything it matches",
            at: later.location, notes: [note])
    }

    // MARK: Coverage

    static func coversRequest(_ a: Conditions, _ b: Conditions) -> Bool {
        if let methods = a.methods {
            guard let other = b.methods, methods.isSuperset(of: other) else { return false }
        }
        for condition in a.headers {
            guard let other = b.headers.first(where: { $0.name == condition.name }),
                headerCovers(condition.test, other.test)
            else { return false }
        }
        return pathsCover(a.paths, b.paths)
    }

    static func covers(_ a: StatusSet?, _ b: StatusSet?) -> Bool {
        guard let a else { return true }
        guard let b else { return a.isSuperset(of: .all) }
        return a.isSuperset(of: b)
    }

    static func covers(_ a: Set<Origin>?, _ b: Set<Origin>?) -> Bool {
        guard let a else { return true }
        return a.isSuperset(of: b ?? Set(Origin.allCases))
    }

    static func headerCovers(_ a: HeaderCondition.Test, _ b: HeaderCondition.Test) -> Bool {
        switch (a, b) {
        case (.present(let x), .present(let y)): return x == y
        case (.present(true), .equals), (.present(true), .regex): return true
        case (.equals(let x), .equals(let y)): return y.allSatisfy(x.contains)
        case (.regex(let x), .regex(let y)): return x.pattern == y.pattern
        default: return false
        }
    }

    static func pathsCover(_ a: [PathPattern]?, _ b: [PathPattern]?) -> Bool {
        guard let a else { return true }
        guard let b else { return false }
        return b.allSatisfy { later in a.contains { patternCovers($0, later) } }
    }

    /// Whether every path `b` matches is matched by `a`.
    static func patternCovers(_ a: PathPattern, _ b: PathPattern) -> Bool {
        switch (a.kind, b.kind) {
        case (.regex(let x), .regex(let y)):
            return x.pattern == y.pattern
        case (.regex, _), (_, .regex):
            return false
        case (.prefix(let x), .prefix(let y)):
            return y.starts(with: x)
        case (.prefix(let x), .glob(let elements)):
            return guaranteedPrefix(elements).starts(with: x)
        case (.glob(let x), .prefix(let y)):
            // Paths starting with y are a subset of "y's complete segments, then anything".
            let parts = y.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
            let superset = parts.dropLast().map { PathPattern.Element.literal(Array($0)) } + [.many]
            return globCovers(x, superset)
        case (.glob(let x), .glob(let y)):
            return globCovers(x, y)
        }
    }

    /// The bytes every path matched by the glob starts with.
    static func guaranteedPrefix(_ elements: [PathPattern.Element]) -> [UInt8] {
        var prefix: [UInt8] = []
        for element in elements {
            switch element {
            case .literal(let bytes):
                prefix.append(UInt8(ascii: "/"))
                prefix.append(contentsOf: bytes)
            case .one:
                prefix.append(UInt8(ascii: "/"))
                return prefix
            case .many:
                return prefix
            }
        }
        return prefix
    }

    /// Language inclusion for globs, by memoized search over (a position, b position).
    static func globCovers(_ a: [PathPattern.Element], _ b: [PathPattern.Element]) -> Bool {
        var memo: [Int: Bool] = [:]
        func covers(_ i: Int, _ j: Int) -> Bool {
            let key = i * (b.count + 1) + j
            if let known = memo[key] { return known }
            memo[key] = false
            let result: Bool
            if j == b.count {
                result = a[i...].allSatisfy { $0 == .many }
            } else if i == a.count {
                result = false
            } else {
                switch (a[i], b[j]) {
                case (.many, _):
                    result = covers(i + 1, j) || covers(i, j + 1)
                case (.literal(let x), .literal(let y)):
                    result = x == y && covers(i + 1, j + 1)
                case (.one, .literal(let y)):
                    result = !y.isEmpty && covers(i + 1, j + 1)
                case (.one, .one):
                    result = covers(i + 1, j + 1)
                default:
                    result = false
                }
            }
            memo[key] = result
            return result
        }
        return covers(0, 0)
    }

    // MARK: Identity

    static func identical(_ a: Conditions, _ b: Conditions) -> Bool {
        guard a.headers.count == b.headers.count, a.paths?.count == b.paths?.count else { return false }
        return a.methods == b.methods && a.statuses == b.statuses && a.origins == b.origins
            && Set(a.headers.map(\.description)) == Set(b.headers.map(\.description))
            && a.paths.map { Set($0.map(patternKey)) } == b.paths.map { Set($0.map(patternKey)) }
    }

    private static func patternKey(_ pattern: PathPattern) -> String {
        switch pattern.kind {
        case .glob(let elements):
            return "glob:" + elements.map {
                switch $0 {
                case .literal(let bytes): return "/" + String(decoding: bytes, as: UTF8.self)
                case .one: return "/*"
                case .many: return "/**"
                }
            }.joined()
        case .prefix(let bytes): return "prefix:" + String(decoding: bytes, as: UTF8.self)
        case .regex(let regex): return "regex:" + regex.pattern
        }
    }
}
