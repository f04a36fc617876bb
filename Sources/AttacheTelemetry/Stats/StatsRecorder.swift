import AttacheRules

/// One event loop's side of the stats store: turns finished exchanges into events in a batch,
/// with the key looked up in this loop's own table, and hands the batch to the store on
/// `flush()`. Used only on its loop; allocates nothing per exchange once the key is known here.
public final class StatsRecorder {
    private let store: StatsStore
    private var events: [StatsEvent] = []
    /// Per slot: the keys this loop has seen, with their index in the rule.
    private var knownKeys: [[[UInt8]: Int32]] = []
    /// Per slot: every key of a rule that is full (its key set never changes again).
    private var fullKeys: [[[UInt8]: Int32]?] = []

    /// Events held before a flush is forced.
    public static let batchCapacity = 1024

    public init(store: StatsStore) {
        self.store = store
        events.reserveCapacity(Self.batchCapacity)
    }

    /// Events waiting for `flush()`.
    public var pendingCount: Int { events.count }

    /// Keys this recorder remembers, over all rules: never more than the rules' `max_keys`, however
    /// many distinct keys it has seen.
    public var knownKeyCount: Int { knownKeys.reduce(0) { $0 + $1.count } }

    /// Records one finished exchange under `key`; returns `true` when the batch is full and
    /// should be flushed now.
    public func record(
        slot: Int32, key: [UInt8], method: UnsafeRawBufferPointer, status: Int, durationNanoseconds: Int64,
        upstreamNanoseconds: Int64?, epochNanoseconds: Int64
    ) -> Bool {
        guard let keyIndex = index(of: key, slot: slot) else { return false }
        events.append(
            StatsEvent(
                slot: slot, key: keyIndex, status: Int16(clamping: status), method: InlineMethod(method),
                durationNanoseconds: durationNanoseconds, upstreamNanoseconds: upstreamNanoseconds ?? -1,
                time: epochNanoseconds))
        return events.count >= Self.batchCapacity
    }

    /// Hands the batch to the store.
    public func flush() {
        guard !events.isEmpty else { return }
        events.withUnsafeBufferPointer { store.apply($0) }
        events.removeAll(keepingCapacity: true)
    }

    /// Forgets the keys of rules the new plan no longer records to (called on reload).
    public func keepOnly(_ plan: RecordPlan) {
        let live = Set(plan.slots.filter { $0 >= 0 })
        for slot in knownKeys.indices where !live.contains(Int32(slot)) {
            knownKeys[slot] = [:]
            fullKeys[slot] = nil
        }
    }

    /// The key's index in its rule, `StatsEvent.otherKey`, or `nil` when the rule is gone.
    private func index(of key: [UInt8], slot: Int32) -> Int32? {
        let position = Int(slot)
        if position >= knownKeys.count {
            knownKeys.append(contentsOf: repeatElement([:], count: position + 1 - knownKeys.count))
            fullKeys.append(contentsOf: repeatElement(nil, count: position + 1 - fullKeys.count))
        }
        if let index = knownKeys[position][key] { return index }
        if let full = fullKeys[position] {
            guard let index = full[key] else { return StatsEvent.otherKey }
            remember(key, index, position)
            return index
        }
        switch store.admit(slot: slot, key: key) {
        case .key(let index):
            remember(key, index, position)
            return index
        case .full(let keys):
            fullKeys[position] = keys
            return StatsEvent.otherKey
        case .retired:
            return nil
        }
    }

    private func remember(_ key: [UInt8], _ index: Int32, _ position: Int) {
        // A copy of its own, so the caller's buffer stays uniquely owned (and reusable).
        knownKeys[position][key.withUnsafeBufferPointer { Array($0) }] = index
    }
}
