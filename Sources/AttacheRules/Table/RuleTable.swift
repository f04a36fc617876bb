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
    private let methodSets: [MethodSet]
    private let headerConditions: [HeaderCondition]
    private let regexes: [PathRegex]
    private let requestSlots: [UInt64: [(name: [UInt8], slot: Int)]]
    /// The statuses some response-phase `respond` rule names, and whether one names none (so
    /// matches any): `mayReplaceResponse` answers from them alone.
    private let replacedStatuses: StatusBits
    private let replacesAnyStatus: Bool
    /// When no rule that records or logs has a condition: those rules, in order. Each applies
    /// to every exchange, so the relay takes the list as is, without a request view or the
    /// index (the common "log every request" set).
    public let unconditionalCompletion: [Int32]?
    /// When every response-phase `respond` rule (at most `requestFreeLimit` of them) has no
    /// method, path or header condition: those rules, in order. Which one replaces a response
    /// then depends on its status and origin alone, and the relay asks without building a
    /// request view or walking the index (the usual error-page rule set).
    private let requestFreeResponders: [Int32]?
    static let requestFreeLimit = 16

    public var rules: [Rule] { ruleSet.rules }

    /// How the index buckets rules: by method (the nine standard ones, "other", and "any" for
    /// rules with no method condition) and, in the status phases, by status class (1xx–5xx, and
    /// "any"). A query looks in its own bucket and in the "any" ones: at most four lists.
    struct Buckets {
        static let anyMethod = MethodSet.bucketCount
        static let methodSlots = MethodSet.bucketCount + 1
        static let statusClasses = 5
        static let anyClass = statusClasses
        static let classSlots = statusClasses + 1

        private let values: (Int, Int, Int, Int)
        let count: Int

        /// Request phase: the method's bucket and "any method".
        init(method: Int) {
            values = (method, Buckets.anyMethod, 0, 0)
            count = 2
        }

        /// Status phases: method × class, method × any, any × class, any × any.
        init(method: Int, status: Int) {
            let klass = min(max(status / 100, 1), Buckets.statusClasses) - 1
            values = (
                method * Buckets.classSlots + klass, method * Buckets.classSlots + Buckets.anyClass,
                Buckets.anyMethod * Buckets.classSlots + klass, Buckets.anyMethod * Buckets.classSlots + Buckets.anyClass
            )
            count = 4
        }

        @inline(__always)
        subscript(_ slot: Int) -> Int {
            switch slot {
            case 0: values.0
            case 1: values.1
            case 2: values.2
            default: values.3
            }
        }
    }

    public init(_ ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        requestHeaderNames = ruleSet.requestHeaderNames
        responseHeaderNames = ruleSet.responseHeaderNames
        var requestBuilder = PathIndexBuilder(bucketCount: Buckets.methodSlots)
        var responseBuilder = PathIndexBuilder(bucketCount: Buckets.methodSlots * Buckets.classSlots)
        var completionBuilder = PathIndexBuilder(bucketCount: Buckets.methodSlots * Buckets.classSlots)
        var checks: [RuleCheck] = []
        var methodSets: [MethodSet] = []
        var headerConditions: [HeaderCondition] = []
        var regexes: [PathRegex] = []
        var replacedStatuses = StatusBits()
        var replacesAnyStatus = false
        var completionRuleIndices: [Int32] = []
        var everyCompletionRuleUnconditional = true
        var responders: [Int32] = []
        var everyResponderRequestFree = true
        checks.reserveCapacity(ruleSet.rules.count)
        for rule in ruleSet.rules {
            let conditions = rule.conditions
            var methodIndex: Int32 = -1
            if let methods = conditions.methods {
                methodIndex = Int32(methodSets.count)
                methodSets.append(methods)
            }
            let headerStart = Int32(headerConditions.count)
            headerConditions += conditions.headers
            let regexStart = Int32(regexes.count)
            for pattern in conditions.paths ?? [] {
                if case .regex(let regex) = pattern.kind { regexes.append(regex) }
            }
            checks.append(
                RuleCheck(
                    statuses: conditions.statuses?.bits ?? .all, hasStatusCondition: conditions.statuses != nil,
                    originMask: conditions.origins.map { $0.reduce(0) { $0 | $1.bit } } ?? 0b11,
                    methods: methodIndex, headers: headerStart..<Int32(headerConditions.count),
                    regexes: regexStart..<Int32(regexes.count)))
            // A rule without a method (status) condition goes into the "any" slot once, instead of
            // into every method's (class's) bucket.
            let methodSlots = conditions.methods?.buckets ?? [Buckets.anyMethod]
            var statusBuckets: [Int] = []
            if let statuses = conditions.statuses {
                let classMask = statuses.classMask
                for method in methodSlots {
                    for klass in 1...Buckets.statusClasses where classMask & (1 << klass) != 0 {
                        statusBuckets.append(method * Buckets.classSlots + klass - 1)
                    }
                }
            } else {
                statusBuckets = methodSlots.map { $0 * Buckets.classSlots + Buckets.anyClass }
            }
            let insertRespond = rule.respond != nil
            let insertCompletion = rule.record != nil || rule.log != nil
            if insertCompletion {
                completionRuleIndices.append(Int32(rule.index))
                everyCompletionRuleUnconditional = everyCompletionRuleUnconditional && conditions.methods == nil
                    && conditions.paths == nil && conditions.headers.isEmpty && conditions.statuses == nil
                    && conditions.origins == nil
            }
            if insertRespond && rule.phase == .response {
                responders.append(Int32(rule.index))
                everyResponderRequestFree = everyResponderRequestFree && conditions.methods == nil
                    && conditions.paths == nil && conditions.headers.isEmpty
                if let statuses = conditions.statuses {
                    replacedStatuses.formUnion(statuses.bits)
                } else {
                    replacesAnyStatus = true
                }
            }
            for pattern in conditions.paths.map({ $0.map(Optional.some) }) ?? [nil] {
                if insertRespond {
                    if rule.phase == .request {
                        requestBuilder.insert(rule: rule.index, pattern: pattern, buckets: methodSlots)
                    } else {
                        responseBuilder.insert(rule: rule.index, pattern: pattern, buckets: statusBuckets)
                    }
                }
                if insertCompletion {
                    completionBuilder.insert(rule: rule.index, pattern: pattern, buckets: statusBuckets)
                }
            }
        }
        self.checks = checks
        self.methodSets = methodSets
        self.headerConditions = headerConditions
        self.regexes = regexes
        self.replacedStatuses = replacedStatuses
        self.replacesAnyStatus = replacesAnyStatus
        unconditionalCompletion = everyCompletionRuleUnconditional && !completionRuleIndices.isEmpty ? completionRuleIndices : nil
        requestFreeResponders = everyResponderRequestFree && responders.count <= Self.requestFreeLimit ? responders : nil
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
    /// Whether some rule answers request heads. When none does, the relay skips building the
    /// request view for `firstRequestResponder` (as for the two questions below).
    public var answersRequests: Bool { !requestIndex.isEmpty }

    /// Whether some rule could replace a response with this status: false for most statuses
    /// of most rule sets (a 404 page rule and a 200 response).
    public func mayReplaceResponse(status: Int) -> Bool {
        replacesAnyStatus || replacedStatuses.contains(status)
    }

    /// Whether some rule records or logs finished exchanges.
    public var hasCompletionRules: Bool { !completionIndex.isEmpty }

    public func firstRequestResponder(_ request: RequestView, scratch: inout MatchScratch) -> Int? {
        guard !requestIndex.isEmpty else { return nil }
        let method = MethodSet.bucket(of: request.method)
        return firstMatch(
            requestIndex, Buckets(method: method), method: method, request, status: 0, origin: .proxy,
            scratch: &scratch)
    }

    /// The first response-phase rule with a `respond` that replaces a response with this status,
    /// produced by `origin`.
    public func firstResponseResponder(
        _ request: RequestView, status: Int, origin: Origin, scratch: inout MatchScratch
    ) -> Int? {
        guard mayReplaceResponse(status: status), !responseIndex.isEmpty else { return nil }
        let method = MethodSet.bucket(of: request.method)
        return firstMatch(
            responseIndex, Buckets(method: method, status: status), method: method, request, status: status,
            origin: origin, scratch: &scratch)
    }

    /// Whether `firstResponseResponder` must see the request. When it need not, the relay asks
    /// `firstResponseResponder(status:origin:)` instead, without a request view.
    public var respondersReadRequest: Bool { requestFreeResponders == nil }

    /// `firstResponseResponder` for a table whose responders do not read the request
    /// (`respondersReadRequest` is false): the first of them whose status and origin hold.
    public func firstResponseResponder(status: Int, origin: Origin) -> Int? {
        guard let requestFreeResponders else {
            preconditionFailure("the table's responders read the request: ask with a RequestView")
        }
        guard mayReplaceResponse(status: status) else { return nil }
        return checks.withUnsafeBufferPointer { checks in
            for rule in requestFreeResponders {
                let check = checks[Int(rule)]
                if check.hasStatusCondition, !check.statuses.contains(status) { continue }
                if check.originMask & origin.bit == 0 { continue }
                return Int(rule)
            }
            return nil
        }
    }

    /// Every rule with `record` or `log` that applies to a finished exchange, ascending, into
    /// `rules` (cleared first).
    public func completionRules(
        _ request: RequestView, status: Int, origin: Origin, into rules: inout [Int32], scratch: inout MatchScratch
    ) {
        rules.removeAllKeepingCapacity()
        if let unconditionalCompletion {
            rules.append(contentsOf: unconditionalCompletion)
            return
        }
        guard !completionIndex.isEmpty else { return }
        let index = completionIndex
        let method = MethodSet.bucket(of: request.method)
        let buckets = Buckets(method: method, status: status)
        index.collectMatchingSets(path: request.path, scratch: &scratch)
        for set in scratch.matchedSets {
            let testRegex = index.needsRegexTest[Int(set)]
            for slot in 0..<buckets.count {
                for position in index.rules(in: set, bucket: buckets[slot]) {
                    let rule = index.rules[position]
                    if holds(rule, method: method, request, status: status, origin: origin, testRegex: testRegex) {
                        rules.append(rule)
                    }
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
    /// Whether any rule reads request header fields (`requestHeaderSlot` finds nothing if not).
    public var readsRequestHeaders: Bool { !requestSlots.isEmpty }

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
        _ index: PathIndex, _ buckets: Buckets, method: Int, _ request: RequestView, status: Int, origin: Origin,
        scratch: inout MatchScratch
    ) -> Int? {
        var best = Int32.max
        index.collectMatchingSets(path: request.path, scratch: &scratch)
        for set in scratch.matchedSets {
            let testRegex = index.needsRegexTest[Int(set)]
            for slot in 0..<buckets.count {
                for position in index.rules(in: set, bucket: buckets[slot]) {
                    let rule = index.rules[position]
                    if rule >= best { break }
                    if holds(rule, method: method, request, status: status, origin: origin, testRegex: testRegex) {
                        best = rule
                        break
                    }
                }
            }
        }
        return best == .max ? nil : Int(best)
    }

    /// Whether the conditions the index could not decide hold. `method` is the request's
    /// method bucket: the index already guarantees standard methods, so only other methods are
    /// compared by name.
    @inline(__always)
    private func holds(
        _ rule: Int32, method: Int, _ request: RequestView, status: Int, origin: Origin, testRegex: Bool
    ) -> Bool {
        let check = checks.withUnsafeBufferPointer { $0[Int(rule)] }
        if check.hasStatusCondition, !check.statuses.contains(status) { return false }
        if check.originMask & origin.bit == 0 { return false }
        if check.methods >= 0, method == MethodSet.otherBucket,
            !methodSets[Int(check.methods)].contains(bucket: method, method: request.method)
        {
            return false
        }
        for index in check.headers where !headerConditions[Int(index)].holds(in: request.headers) { return false }
        if testRegex {
            var matched = false
            for index in check.regexes where regexes[Int(index)].matches(request.path) {
                matched = true
                break
            }
            if !matched { return false }
        }
        return true
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

/// What the index leaves to test for one rule, as plain data: reading one on the data path
/// costs no reference counting. Header conditions, custom methods and regexes live in side
/// tables of the `RuleTable`, referred to by index.
struct RuleCheck: Sendable {
    var statuses: StatusBits
    var hasStatusCondition: Bool
    /// Bit 0: upstream, bit 1: proxy.
    var originMask: UInt8
    /// Index into `RuleTable.methodSets` when the rule names methods, else -1.
    var methods: Int32
    var headers: Range<Int32>
    var regexes: Range<Int32>
}
