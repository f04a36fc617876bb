/// The index of one phase of the rule table: a trie over path segments whose terminals hold, per
/// bucket (method, or method × status class), the sorted indices of the rules that end there.
///
/// Evaluation simulates the trie as an automaton over the request's segments (`**` nodes loop on
/// themselves), so its cost is bounded by segments × live nodes whatever the patterns: no
/// backtracking, and `/**/a/**/b` cannot be turned against it by a long path.
///
/// A class, not a struct: evaluation passes it around constantly, and a struct of eight arrays
/// would be retained and released field by field on every pass.
final class PathIndex: Sendable {
    struct Node: Sendable {
        var one: Int32 = -1
        var many: Int32 = -1
        var isMany = false
        var hasLiterals = false
        var terminal: Int32 = -1
        var prefixStart: Int32 = 0
        var prefixEnd: Int32 = 0
    }

    struct PrefixEntry: Sendable {
        var bytes: [UInt8]
        var set: Int32
    }

    let bucketCount: Int
    let nodes: [Node]
    let edges: LiteralEdgeTable
    /// For set `s`, bucket `b`: rules are `rules[offsets[s * (bucketCount + 1) + b] ..< offsets[… + b + 1]]`.
    let offsets: [Int32]
    let rules: [Int32]
    let prefixes: [PrefixEntry]
    /// Per set: its rules still need their path regexes tested (the index only narrowed them
    /// down by the regex's literal prefix, or not at all).
    let needsRegexTest: [Bool]
    /// Rules with no path condition.
    let alwaysSet: Int32
    /// Rules with a regex path that has no literal prefix: each is tested.
    let regexSet: Int32

    init(
        bucketCount: Int, nodes: [Node], edges: LiteralEdgeTable, offsets: [Int32], rules: [Int32],
        prefixes: [PrefixEntry], needsRegexTest: [Bool], alwaysSet: Int32, regexSet: Int32
    ) {
        self.bucketCount = bucketCount
        self.nodes = nodes
        self.edges = edges
        self.offsets = offsets
        self.rules = rules
        self.prefixes = prefixes
        self.needsRegexTest = needsRegexTest
        self.alwaysSet = alwaysSet
        self.regexSet = regexSet
    }

    var isEmpty: Bool { rules.isEmpty }

    /// The rules of `set` in `bucket`, ascending.
    @inline(__always)
    func rules(in set: Int32, bucket: Int) -> Range<Int> {
        let base = Int(set) * (bucketCount + 1) + bucket
        return Int(offsets[base])..<Int(offsets[base + 1])
    }

    /// Collects into `scratch.matchedSets` the always-set, every set whose path patterns (or
    /// regex prefixes) match `path`, and last the set of unprefixed regex rules. Sets flagged in
    /// `needsRegexTest` hold rules whose regexes the caller must still test.
    ///
    /// No closures here: a closure's captures would be retained and released on every call.
    func collectMatchingSets(path: UnsafeRawBufferPointer, scratch: inout MatchScratch) {
        scratch.matchedSets.removeAll()
        if alwaysSet >= 0 { scratch.matchedSets.append(alwaysSet) }
        traverse(path: path, scratch: &scratch)
        if regexSet >= 0 { scratch.matchedSets.append(regexSet) }
    }

    private func traverse(path: UnsafeRawBufferPointer, scratch: inout MatchScratch) {
        guard nodes.count > 1 || !prefixes.isEmpty, path.first == UInt8(ascii: "/") else { return }
        scratch.prepare(nodeCount: nodes.count)
        nodes.withUnsafeBufferPointer { nodes in
            scratch.beginStep()
            activate(0, nodes: nodes, path: path, scratch: &scratch)
            scratch.finishStep()
            var start = 1
            while !scratch.active.isEmpty {
                var end = start
                while end < path.count, path[end] != UInt8(ascii: "/") { end += 1 }
                let segment = UnsafeRawBufferPointer(rebasing: path[start..<end])
                scratch.beginStep()
                var position = 0
                while position < scratch.active.count {
                    let current = scratch.active[position]
                    position += 1
                    let node = nodes[Int(current)]
                    if node.isMany { activate(current, nodes: nodes, path: path, scratch: &scratch) }
                    if node.hasLiterals {
                        let child = edges.child(of: current, segment: segment)
                        if child >= 0 { activate(child, nodes: nodes, path: path, scratch: &scratch) }
                    }
                    if node.one >= 0, !segment.isEmpty {
                        activate(node.one, nodes: nodes, path: path, scratch: &scratch)
                    }
                }
                scratch.finishStep()
                if end >= path.count { break }
                start = end + 1
            }
            for current in scratch.active {
                let terminal = nodes[Int(current)].terminal
                if terminal >= 0 { scratch.matchedSets.append(terminal) }
            }
        }
    }

    /// Adds a node to the next active set, with its `**` child (which may match nothing), and
    /// collects the prefix entries hanging off it that the path starts with.
    @inline(__always)
    private func activate(
        _ index: Int32, nodes: UnsafeBufferPointer<Node>, path: UnsafeRawBufferPointer, scratch: inout MatchScratch
    ) {
        var index = index
        while scratch.mark(index) {
            let node = nodes[Int(index)]
            if node.prefixEnd > node.prefixStart {
                for entry in Int(node.prefixStart)..<Int(node.prefixEnd) where path.starts(with: prefixes[entry].bytes) {
                    scratch.matchedSets.append(prefixes[entry].set)
                }
            }
            guard node.many >= 0 else { return }
            index = node.many
        }
    }
}

/// Builds a `PathIndex`; one builder per phase.
struct PathIndexBuilder {
    private struct BuilderNode {
        var literals: [ByteKey: Int32] = [:]
        var one: Int32 = -1
        var many: Int32 = -1
        var isMany = false
        var terminal: Int32 = -1
        var prefixes: [(bytes: [UInt8], regex: Bool, set: Int32)] = []
    }

    let bucketCount: Int
    private var nodes = [BuilderNode()]
    /// Per set, per bucket, the rule indices (sorted and deduplicated when built).
    private var sets: [[[Int32]]] = []
    private var setNeedsRegex: [Bool] = []
    private var alwaysSet: Int32 = -1
    private var regexSet: Int32 = -1

    init(bucketCount: Int) {
        self.bucketCount = bucketCount
    }

    /// Adds `rule` under each bucket in `buckets`, for one path pattern (`nil`: no path condition).
    /// Rules must be inserted in ascending index order.
    mutating func insert(rule: Int, pattern: PathPattern?, buckets: [Int]) {
        let set: Int32
        switch pattern?.kind {
        case nil:
            if alwaysSet < 0 { alwaysSet = newSet() }
            set = alwaysSet
        case .regex(let regex):
            if let prefix = regex.literalPrefix {
                set = prefixSet(prefix, regex: true)
            } else {
                if regexSet < 0 { regexSet = newSet(regex: true) }
                set = regexSet
            }
        case .glob(let elements):
            var node: Int32 = 0
            for element in elements {
                switch element {
                case .literal(let bytes):
                    node = literalChild(of: node, ByteKey(bytes))
                case .one:
                    if nodes[Int(node)].one < 0 { nodes[Int(node)].one = newNode() }
                    node = nodes[Int(node)].one
                case .many:
                    if nodes[Int(node)].many < 0 {
                        let child = newNode()
                        nodes[Int(child)].isMany = true
                        nodes[Int(node)].many = child
                    }
                    node = nodes[Int(node)].many
                }
            }
            if nodes[Int(node)].terminal < 0 { nodes[Int(node)].terminal = newSet() }
            set = nodes[Int(node)].terminal
        case .prefix(let bytes):
            set = prefixSet(bytes, regex: false)
        }
        for bucket in buckets { sets[Int(set)][bucket].append(Int32(rule)) }
    }

    /// The set of a prefix entry: hung off the node for the prefix's complete segments, since
    /// any path that starts with the prefix passes through that node.
    private mutating func prefixSet(_ bytes: [UInt8], regex: Bool) -> Int32 {
        var node: Int32 = 0
        let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        for part in parts.dropLast() {
            node = literalChild(of: node, ByteKey(Array(part)))
        }
        if let existing = nodes[Int(node)].prefixes.first(where: { $0.bytes == bytes && $0.regex == regex }) {
            return existing.set
        }
        let set = newSet(regex: regex)
        nodes[Int(node)].prefixes.append((bytes, regex, set))
        return set
    }

    private mutating func literalChild(of node: Int32, _ key: ByteKey) -> Int32 {
        if let child = nodes[Int(node)].literals[key] { return child }
        let child = newNode()
        nodes[Int(node)].literals[key] = child
        return child
    }

    private mutating func newNode() -> Int32 {
        nodes.append(BuilderNode())
        return Int32(nodes.count - 1)
    }

    private mutating func newSet(regex: Bool = false) -> Int32 {
        sets.append(Array(repeating: [], count: bucketCount))
        setNeedsRegex.append(regex)
        return Int32(sets.count - 1)
    }

    func build() -> PathIndex {
        var offsets: [Int32] = []
        var rules: [Int32] = []
        offsets.reserveCapacity(sets.count * (bucketCount + 1))
        // Rules are inserted in ascending order, so each bucket is already sorted; a rule with
        // several patterns that reach the same set appears twice in a row.
        for set in sets {
            for bucket in set {
                offsets.append(Int32(rules.count))
                var previous: Int32 = -1
                for rule in bucket where rule != previous {
                    rules.append(rule)
                    previous = rule
                }
            }
            offsets.append(Int32(rules.count))
        }
        var edges: [(parent: Int32, key: [UInt8], child: Int32)] = []
        var prefixes: [PathIndex.PrefixEntry] = []
        var built: [PathIndex.Node] = []
        built.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() {
            for (key, child) in node.literals { edges.append((Int32(index), key.bytes, child)) }
            let prefixStart = Int32(prefixes.count)
            prefixes.append(contentsOf: node.prefixes.map { PathIndex.PrefixEntry(bytes: $0.bytes, set: $0.set) })
            built.append(
                PathIndex.Node(
                    one: node.one, many: node.many, isMany: node.isMany, hasLiterals: !node.literals.isEmpty,
                    terminal: node.terminal, prefixStart: prefixStart, prefixEnd: Int32(prefixes.count)))
        }
        return PathIndex(
            bucketCount: bucketCount, nodes: built, edges: LiteralEdgeTable(edges: edges), offsets: offsets,
            rules: rules, prefixes: prefixes, needsRegexTest: setNeedsRegex, alwaysSet: alwaysSet, regexSet: regexSet)
    }
}

/// Bytes as a dictionary key, hashed in one call rather than byte by byte.
struct ByteKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension Array where Element: Equatable {
    /// Removes adjacent duplicates in place (the array is sorted).
    mutating func dedupeSorted() {
        guard count > 1 else { return }
        var write = 1
        for read in 1..<count where self[read] != self[write - 1] {
            self[write] = self[read]
            write += 1
        }
        removeSubrange(write...)
    }
}
