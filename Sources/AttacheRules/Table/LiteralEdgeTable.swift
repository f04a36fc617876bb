/// The literal edges of the path trie, `(parent node, segment bytes) → child node`, in one
/// open-addressing hash table over a single byte arena: a lookup hashes the request's segment in
/// place and compares bytes, with no per-request allocation and no per-node dictionaries.
struct LiteralEdgeTable: Sendable {
    private struct Slot: Sendable {
        var parent: Int32 = -1
        var child: Int32 = -1
        var keyOffset: Int32 = 0
        var keyLength: Int32 = 0
        var hash: UInt64 = 0
    }

    private var slots: [Slot]
    private var arena: [UInt8] = []
    private let mask: Int

    init(edges: [(parent: Int32, key: [UInt8], child: Int32)]) {
        var capacity = 16
        while capacity < edges.count * 2 { capacity <<= 1 }
        slots = Array(repeating: Slot(), count: capacity)
        mask = capacity - 1
        for edge in edges {
            let hash = edge.key.withUnsafeBytes { LiteralEdgeTable.hash(parent: edge.parent, $0) }
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index].parent >= 0 { index = (index + 1) & mask }
            slots[index] = Slot(
                parent: edge.parent, child: edge.child, keyOffset: Int32(arena.count),
                keyLength: Int32(edge.key.count), hash: hash)
            arena.append(contentsOf: edge.key)
        }
    }

    /// The child of `parent` along `segment`, or -1.
    @inline(__always)
    func child(of parent: Int32, segment: UnsafeRawBufferPointer) -> Int32 {
        let hash = LiteralEdgeTable.hash(parent: parent, segment)
        return slots.withUnsafeBufferPointer { slots in
            arena.withUnsafeBytes { arena in
                var index = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let slot = slots[index]
                    if slot.parent < 0 { return -1 }
                    if slot.hash == hash, slot.parent == parent, Int(slot.keyLength) == segment.count,
                        segment.count == 0
                            || memcmpEqual(arena.baseAddress! + Int(slot.keyOffset), segment.baseAddress!, segment.count)
                    {
                        return slot.child
                    }
                    index = (index + 1) & mask
                }
            }
        }
    }

    /// FNV-1a over the segment, seeded with the parent node.
    @inline(__always)
    static func hash(parent: Int32, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(UInt32(bitPattern: parent))
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var index = 0
    while index < count {
        if a.load(fromByteOffset: index, as: UInt8.self) != b.load(fromByteOffset: index, as: UInt8.self) {
            return false
        }
        index += 1
    }
    return true
}
