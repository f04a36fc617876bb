/// For one rule table: where each rule's `record` action goes in the stats store (its slot), or
/// nothing for rules without one. Exchanges carry the plan of the table they started with.
public struct RecordPlan: Sendable {
    /// Indexed by rule index; `-1` for rules that do not record.
    let slots: [Int32]

    public static let empty = RecordPlan(slots: [])

    /// The slot for a rule, if it records.
    @inline(__always)
    public func slot(forRule index: Int) -> Int32? {
        guard index < slots.count else { return nil }
        let slot = slots[index]
        return slot >= 0 ? slot : nil
    }
}
