/// Working memory for evaluating a `RuleTable`: the automaton's active node sets, a generation
/// stamp per node, and the sets the index selected. Owned by the caller (one per event loop or
/// connection) so that evaluation allocates nothing once warm and tables stay immutable and
/// shareable.
public struct MatchScratch {
    var active = ReusableList()
    var next = ReusableList()
    /// The index's answer: sets whose rules are candidates.
    var matchedSets = ReusableList()
    private var stamps: [UInt32] = []
    private var generation: UInt32 = 0

    public init() {}

    @inline(__always)
    mutating func prepare(nodeCount: Int) {
        if stamps.count < nodeCount {
            stamps = Array(repeating: 0, count: nodeCount)
            generation = 0
        }
        active.removeAll()
    }

    @inline(__always)
    mutating func beginStep() {
        next.removeAll()
        if generation == UInt32.max {
            for index in stamps.indices { stamps[index] = 0 }
            generation = 0
        }
        generation += 1
    }

    /// Marks a node active for the next step; `false` if it already was.
    @inline(__always)
    mutating func mark(_ node: Int32) -> Bool {
        let marked = stamps.withUnsafeMutableBufferPointer { stamps in
            if stamps[Int(node)] == generation { return false }
            stamps[Int(node)] = generation
            return true
        }
        if marked { next.append(node) }
        return marked
    }

    @inline(__always)
    mutating func finishStep() {
        swap(&active, &next)
    }
}

/// A list of `Int32` that keeps its storage when cleared, without the generic bookkeeping of
/// `removeAll(keepingCapacity:)` on every step.
struct ReusableList: Sequence {
    private var storage: [Int32] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ value: Int32) {
        if count < storage.count {
            storage.withUnsafeMutableBufferPointer { $0[count] = value }
        } else {
            storage.append(value)
        }
        count += 1
    }

    @inline(__always)
    subscript(_ index: Int) -> Int32 {
        storage.withUnsafeBufferPointer { $0[index] }
    }

    func makeIterator() -> IndexingIterator<ArraySlice<Int32>> {
        storage[0..<count].makeIterator()
    }
}
