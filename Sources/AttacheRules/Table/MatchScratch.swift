/// Working memory for evaluating a `RuleTable`: the automaton's active node sets and a
/// generation stamp per node. Owned by the caller (one per event loop or connection) so that
/// evaluation allocates nothing once warm and tables stay immutable and shareable.
public struct MatchScratch {
    var active: [Int32] = []
    var next: [Int32] = []
    private var stamps: [UInt32] = []
    private var generation: UInt32 = 0

    public init() {}

    @inline(__always)
    mutating func prepare(nodeCount: Int) {
        if stamps.count < nodeCount {
            stamps = Array(repeating: 0, count: nodeCount)
            generation = 0
        }
        active.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func beginStep() {
        next.removeAll(keepingCapacity: true)
        if generation == UInt32.max {
            for index in stamps.indices { stamps[index] = 0 }
            generation = 0
        }
        generation += 1
    }

    /// Marks a node active for the next step; `false` if it already was.
    @inline(__always)
    mutating func mark(_ node: Int32) -> Bool {
        if stamps[Int(node)] == generation { return false }
        stamps[Int(node)] = generation
        next.append(node)
        return true
    }

    @inline(__always)
    mutating func finishStep() {
        swap(&active, &next)
    }
}
