/// The index of one phase of the rule table: a trie over path segments whose terminals hold, per
/// bucket (method, or method × status class), the sorted indices of the rules that end there.
///
/// Evaluation simulates the trie as an automaton over the request's segments (`**` nodes loop on
/// themselves), so its cost is bounded by segments × live nodes whatever the patterns: no
/// backtracking, and `/**/a/**/b` cannot be turned against it by a long path.
struct PathIndex: Sendable {
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
    /// Rules with no path condition.
    let alwaysSet: Int32
    /// Rules with a regex path: the index cannot decide, so each is tested.
    let regexSet: Int32

    var isEmpty: Bool { rules.isEmpty }

    /// The rules of `set` in `bucket`, ascending.
    @inline(__always)
    func rules(in set: Int32, bucket: Int) -> Range<Int> {
        let base = Int(set) * (bucketCount + 1) + bucket
        return Int(offsets[base])..<Int(offsets[base + 1])
    }

    /// Calls `visit` with every terminal set whose path patterns match `path`, then with the
    /// always-set; the regex set is left to the caller (it needs per-rule checks).
    @inline(__always)
    func forEachMatchingSet(
        path: UnsafeRawBufferPointer, scratch: inout MatchScratch, _ visit: (Int32) -> Void
    ) {
        if alwaysSet >= 0 { visit(alwaysSet) }
        guard nodes.count > 1 || !prefixes.isEmpty, path.first == UInt8(ascii: "/") else { return }
        scratch.prepare(nodeCount: nodes.count)
        nodes.withUnsafeBufferPointer { nodes in
            scratch.beginStep()
            activate(0, nodes: nodes, path: path, scratch: &scratch, visit)
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
                    if node.isMany { activate(current, nodes: nodes, path: path, scratch: &scratch, visit) }
                    if node.hasLiterals {
                        let child = edges.child(of: current, segment: segment)
                        if child >= 0 { activate(child, nodes: nodes, path: path, scratch: &scratch, visit) }
                    }
                    if node.one >= 0, !segment.isEmpty {
                        activate(node.one, nodes: nodes, path: path, scratch: &scratch, visit)
                    }
                }
                scratch.finishStep()
                if end >= path.count { break }
                start = end + 1
            }
            for current in scratch.active {
                let terminal = nodes[Int(current)].terminal
                if terminal >= 0 { visit(terminal) }
            }
        }
    }

    /// Adds a node to the next active set, with its `**` child (which may match nothing), and
    /// visits the prefix entries hanging off it.
    @inline(__always)
    private func activate(
        _ index: Int32, nodes: UnsafeBufferPointer<Node>, path: UnsafeRawBufferPointer,
        scratch: inout MatchScratch, _ visit: (Int32) -> Void
    ) {
        guard scratch.mark(index) else { return }
        let node = nodes[Int(index)]
        if node.prefixEnd > node.prefixStart {
            for entry in prefixes[Int(node.prefixStart)..<Int(node.prefixEnd)] where path.starts(with: entry.bytes) {
                visit(entry.set)
            }
        }
        if node.many >= 0 { activate(node.many, nodes: nodes, path: path, scratch: &scratch, visit) }
    }
}

/// Builds a `PathIndex`; one builder per phase.
struct PathIndexBuilder {
    private struct BuilderNode {
        var literals: [[UInt8]: Int32] = [:]
        var one: Int32 = -1
        var many: Int32 = -1
        var isMany = false
        var terminal: Int32 = -1
        var prefixes: [(bytes: [UInt8], set: Int32)] = []
    }

    let bucketCount: Int
    private var nodes = [BuilderNode()]
    /// Per set, per bucket, the rule indices (sorted and deduplicated when built).
    private var sets: [[[Int32]]] = []
    private var alwaysSet: Int32 = -1
    private var regexSet: Int32 = -1

    init(bucketCount: Int) {
        self.bucketCount = bucketCount
    }

    /// Adds `rule` under each bucket in `buckets`, for one path pattern (`nil`: no path condition).
    mutating func insert(rule: Int, pattern: PathPattern?, buckets: [Int]) {
        let set: Int32
        switch pattern?.kind {
        case nil:
            if alwaysSet < 0 { alwaysSet = newSet() }
            set = alwaysSet
        case .regex:
            if regexSet < 0 { regexSet = newSet() }
            set = regexSet
        case .glob(let elements):
            var node: Int32 = 0
            for element in elements {
                switch element {
                case .literal(let bytes):
                    if let child = nodes[Int(node)].literals[bytes] {
                        node = child
                    } else {
                        let child = newNode()
                        nodes[Int(node)].literals[bytes] = child
                        node = child
                    }
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
            // Hang the entry off the node for the prefix's complete segments; any path that
            // starts with the prefix passes through that node.
            var node: Int32 = 0
            let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
            for part in parts.dropLast() {
                let key = Array(part)
                if let child = nodes[Int(node)].literals[key] {
                    node = child
                } else {
                    let child = newNode()
                    nodes[Int(node)].literals[key] = child
                    node = child
                }
            }
            if let existing = nodes[Int(node)].prefixes.first(where: { $0.bytes == bytes }) {
                set = existing.set
            } else {
                set = newSet()
                nodes[Int(node)].prefixes.append((bytes, set))
            }
        }
        for bucket in buckets { sets[Int(set)][bucket].append(Int32(rule)) }
    }

    private mutating func newNode() -> Int32 {
        nodes.append(BuilderNode())
        return Int32(nodes.count - 1)
    }

    private mutating func newSet() -> Int32 {
        sets.append(Array(repeating: [], count: bucketCount))
        return Int32(sets.count - 1)
    }

    func build() -> PathIndex {
        var offsets: [Int32] = []
        var rules: [Int32] = []
        offsets.reserveCapacity(sets.count * (bucketCount + 1))
        for set in sets {
            for bucket in set {
                offsets.append(Int32(rules.count))
                var sorted = bucket.sorted()
                sorted.dedupeSorted()
                rules.append(contentsOf: sorted)
            }
            offsets.append(Int32(rules.count))
        }
        var edges: [(parent: Int32, key: [UInt8], child: Int32)] = []
        var prefixes: [PathIndex.PrefixEntry] = []
        var built: [PathIndex.Node] = []
        built.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() {
            for (key, child) in node.literals { edges.append((Int32(index), key, child)) }
            let prefixStart = Int32(prefixes.count)
            prefixes.append(contentsOf: node.prefixes.map { PathIndex.PrefixEntry(bytes: $0.bytes, set: $0.set) })
            built.append(
                PathIndex.Node(
                    one: node.one, many: node.many, isMany: node.isMany, hasLiterals: !node.literals.isEmpty,
                    terminal: node.terminal, prefixStart: prefixStart, prefixEnd: Int32(prefixes.count)))
        }
        return PathIndex(
            bucketCount: bucketCount, nodes: built, edges: LiteralEdgeTable(edges: edges), offsets: offsets,
            rules: rules, prefixes: prefixes, alwaysSet: alwaysSet, regexSet: regexSet)
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
