/// Numbers the header names the rules look at, so the relay extracts only those fields and the
/// table refers to them by index instead of by name.
///
/// Filled while a rule set is decoded (conditions and template variables register names), then
/// frozen into the `RuleTable`.
final class HeaderSlotRegistry {
    private(set) var requestNames: [String] = []
    private(set) var responseNames: [String] = []
    private var requestSlots: [String: Int] = [:]
    private var responseSlots: [String: Int] = [:]

    /// The slot of a request header name (lower-cased), registering it on first use.
    func requestSlot(for name: String) -> Int {
        if let slot = requestSlots[name] { return slot }
        let slot = requestNames.count
        requestNames.append(name)
        requestSlots[name] = slot
        return slot
    }

    func responseSlot(for name: String) -> Int {
        if let slot = responseSlots[name] { return slot }
        let slot = responseNames.count
        responseNames.append(name)
        responseSlots[name] = slot
        return slot
    }
}
