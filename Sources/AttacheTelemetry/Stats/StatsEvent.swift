/// One finished exchange as a `record` action saw it: plain values only, so a loop can append
/// it to its batch without allocating.
struct StatsEvent {
    /// The rule's slot in the store.
    var slot: Int32
    /// The key's index in the rule, or `StatsEvent.otherKey`.
    var key: Int32
    var status: Int16
    var method: InlineMethod
    var durationNanoseconds: Int64
    /// `-1` when the upstream took no part (a locally answered request).
    var upstreamNanoseconds: Int64
    /// When the exchange finished, in nanoseconds since the epoch.
    var time: Int64

    static let otherKey: Int32 = -1
}

/// A request method kept inline (up to 16 bytes; longer ones are cut), so history entries need
/// no storage of their own.
struct InlineMethod: Equatable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    private var length: UInt8 = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        length = UInt8(min(bytes.count, 16))
        for index in 0..<Int(length) {
            let byte = UInt64(bytes[index])
            if index < 8 { low |= byte << UInt64(index * 8) } else { high |= byte << UInt64((index - 8) * 8) }
        }
    }

    init(_ text: String) {
        let bytes = Array(text.utf8)
        self = bytes.withUnsafeBytes { InlineMethod($0) }
    }

    var text: String {
        var bytes: [UInt8] = []
        for index in 0..<Int(length) {
            let word = index < 8 ? low : high
            bytes.append(UInt8(truncatingIfNeeded: word >> UInt64((index % 8) * 8)))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
