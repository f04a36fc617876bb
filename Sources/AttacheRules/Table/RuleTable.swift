/// The compiled, immutable form of a rule set: what the relay, `explain` and the tests evaluate.
///
/// Three indices, one per question the relay asks:
/// - `firstRequestResponder`: which rule answers this request head without the upstream?
/// - `firstResponseResponder`: which rule replaces this response (status + origin)?
/// - `completionRules`: which `record` / `log` rules apply to this finished exchange?
///
/// Each index narrows by method (and status class), then by the path trie; only what the index
/// cannot decide (exact status, origin, headers, regexes) is tested per rule, and only for rules
/// earlier than the best match so far. A table is shared by all threads; callers bring their own
/// `MatchScratch`.
public final class RuleTable: Sendable {
    public let ruleSet: RuleSet
    /// Lower-cased request header names the rules use, by slot.
    public let requestHeaderNames: [String]
    /// Lower-cased upstream response header names templates use, by slot.
    public let responseHeaderNames: [String]

    private let requestIndex: PathIndex
    private let responseIndex: PathIndex
    private let completionIndex: PathIndex
    private let checks: [RuleCheck]
    private let requestSlots: [UInt64: [(name: [UInt8], slot: Int)]]

    public var rules: [Rule] { ruleSet.rules }

    static let statusClasses = 5

    public init(_ ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        requestHeaderNames = ruleSet.requestHeaderNames
        responseHeaderNames = ruleSet.responseHeaderNames
        var requestBuilder = PathIndexBuilder(bucketCount: MethodSet.bucketCount)
        var responseBuilder = PathIndexBuilder(bucketCount: MethodSet.bucketCount * RuleTable.statusClasses)
        var completionBuilder = PathIndexBuilder(bucketCount: MethodSet.bucketCount * RuleTable.statusClasses)
        var checks: [RuleCheck] = []
        checks.reserveCapacity(ruleSet.rules.count)
        for rule in ruleSet.rules {
            let conditions = rule.conditions
            checks.append(RuleCheck(conditions))
            let methodBuckets = conditions.methods?.buckets ?? Array(0..<MethodSet.bucketCount)
            let classMask = conditions.statuses?.classMask ?? 0b11_1110
            var statusBuckets: [Int] = []
            for method in methodBuckets {
                for klass in 1...RuleTable.statusClasses where classMask & (1 << klass) != 0 {
                    statusBuckets.append(method * RuleTable.statusClasses + klass - 1)
                }
            }
            let patterns: [PathPattern?] = conditions.paths ?? [nil]
            for pattern in patterns {
                if rule.respond != nil {
                    if rule.phase == .request {
                        requestBuilder.insert(rule: rule.index, pattern: pattern, buckets: methodBuckets)
                    } else {
                        responseBuilder.insert(rule: rule.index, pattern: pattern, buckets: statusBuckets)
                    }
                }
                if rule.record != nil || rule.log != nil {
                    completionBuilder.insert(rule: rule.index, pattern: pattern, buckets: statusBuckets)
                }
            }
        }
        self.checks = checks
        requestIndex = requestBuilder.build()
        responseIndex = responseBuilder.build()
        completionIndex = completionBuilder.build()
        var slots: [UInt64: [(name: [UInt8], slot: Int)]] = [:]
        for (slot, name) in ruleSet.requestHeaderNames.enumerated() {
            let bytes = Array(name.utf8)
            let key = bytes.withUnsafeBytes { RuleTable.caseInsensitiveHash($0) }
            slots[key, default: []].append((bytes, slot))
        }
        requestSlots = slots
    }

    /// The table for an empty rule set: a pure relay.
    public static let empty = RuleTable(RuleSet.empty)

    // MARK: Questions the relay asks

    /// The first rule (in order) with a `respond` that answers this request without the upstream.
    public func firstRequestResponder(_ request: RequestView, scratch: inout MatchScratch) -> Int? {
        guard !requestIndex.isEmpty else { return nil }
        let methodBucket = MethodSet.bucket(of: request.method)
        return firstMatch(
            requestIndex, bucket: methodBucket, methodBucket: methodBucket, request, status: 0, origin: .proxy,
            scratch: &scratch)
    }

    /// The first response-phase rule with a `respond` that replaces a response with this status,
    /// produced by `origin`.
    public func firstResponseResponder(
        _ request: RequestView, status: Int, origin: Origin, scratch: inout MatchScratch
    ) -> Int? {
        guard !responseIndex.isEmpty else { return nil }
        let methodBucket = MethodSet.bucket(of: request.method)
        let bucket = RuleTable.statusBucket(methodBucket: methodBucket, status: status)
        return firstMatch(
            responseIndex, bucket: bucket, methodBucket: methodBucket, request, status: status, origin: origin,
            scratch: &scratch)
    }

    /// Every rule with `record` or `log` that applies to a finished exchange, ascending, into
    /// `rules` (cleared first).
    public func completionRules(
        _ request: RequestView, status: Int, origin: Origin, into rules: inout [Int32], scratch: inout MatchScratch
    ) {
        rules.removeAll(keepingCapacity: true)
        guard !completionIndex.isEmpty else { return }
        let index = completionIndex
        let methodBucket = MethodSet.bucket(of: request.method)
        let bucket = RuleTable.statusBucket(methodBucket: methodBucket, status: status)
        index.forEachMatchingSet(path: request.path, scratch: &scratch) { set in
            for position in index.rules(in: set, bucket: bucket) {
                let rule = index.rules[position]
                if checks[Int(rule)].holds(methodBucket: methodBucket, request, status: status, origin: origin, testRegex: false) {
                    rules.append(rule)
                }
            }
        }
        if index.regexSet >= 0 {
            for position in index.rules(in: index.regexSet, bucket: bucket) {
                let rule = index.rules[position]
                if checks[Int(rule)].holds(methodBucket: methodBucket, request, status: status, origin: origin, testRegex: true) {
                    rules.append(rule)
                }
            }
        }
        if rules.count > 1 {
            rules.sort()
            rules.dedupeSorted()
        }
    }

    /// The slot of a request header name (any case), or `nil` when no rule uses it.
    @inline(__always)
    public func requestHeaderSlot(_ name: UnsafeRawBufferPointer) -> Int? {
        guard !requestSlots.isEmpty else { return nil }
        guard let candidates = requestSlots[RuleTable.caseInsensitiveHash(name)] else { return nil }
        for candidate in candidates where candidate.name.count == name.count {
            var equal = true
            for index in 0..<name.count where RuleTable.lower(name[index]) != candidate.name[index] {
                equal = false
                break
            }
            if equal { return candidate.slot }
        }
        return nil
    }

    // MARK: Evaluation

    @inline(__always)
    private func firstMatch(
        _ index: PathIndex, bucket: Int, methodBucket: Int, _ request: RequestView, status: Int, origin: Origin,
        scratch: inout MatchScratch
    ) -> Int? {
        var best = Int32.max
        index.forEachMatchingSet(path: request.path, scratch: &scratch) { set in
            for position in index.rules(in: set, bucket: bucket) {
                let rule = index.rules[position]
                if rule >= best { break }
                if checks[Int(rule)].holds(methodBucket: methodBucket, request, status: status, origin: origin, testRegex: false) {
                    best = rule
                    break
                }
            }
        }
        if index.regexSet >= 0 {
            for position in index.rules(in: index.regexSet, bucket: bucket) {
                let rule = index.rules[position]
                if rule >= best { break }
                if checks[Int(rule)].holds(methodBucket: methodBucket, request, status: status, origin: origin, testRegex: true) {
                    best = rule
                    break
                }
            }
        }
        return best == .max ? nil : Int(best)
    }

    @inline(__always)
    static func statusBucket(methodBucket: Int, status: Int) -> Int {
        let klass = min(max(status / 100, 1), statusClasses)
        return methodBucket * statusClasses + klass - 1
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    @inline(__always)
    static func caseInsensitiveHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(lower(byte))) &* 0x100_0000_01b3 }
        return hash
    }
}

/// What the index leaves to test for one rule.
private struct RuleCheck: Sendable {
    var statuses: StatusSet?
    var origins: Set<Origin>?
    var methods: MethodSet?
    var headers: [HeaderCondition]
    var regexPaths: [PathRegex]

    init(_ conditions: Conditions) {
        statuses = conditions.statuses
        origins = conditions.origins
        methods = conditions.methods
        headers = conditions.headers
        regexPaths = conditions.paths?.compactMap {
            if case .regex(let regex) = $0.kind { return regex }
            return nil
        } ?? []
    }

    /// `methodBucket` is the request's method bucket: the index already guarantees standard
    /// methods, so only non-standard ones are compared by name.
    @inline(__always)
    func holds(methodBucket: Int, _ request: RequestView, status: Int, origin: Origin, testRegex: Bool) -> Bool {
        if let statuses, !statuses.contains(status) { return false }
        if let origins, !origins.contains(origin) { return false }
        if let methods, methodBucket == MethodSet.otherBucket,
            !methods.contains(bucket: methodBucket, method: request.method)
        {
            return false
        }
        if !headers.isEmpty {
            for header in headers where !header.holds(in: request.headers) { return false }
        }
        if testRegex, !regexPaths.contains(where: { $0.matches(request.path) }) { return false }
        return true
    }
}
