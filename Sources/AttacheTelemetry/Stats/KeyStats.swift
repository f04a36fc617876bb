/// Everything recorded under one key of one rule: hits, durations, status counts and the last
/// exchanges. Lives in the `StatsStore`, only touched under its lock.
final class KeyStats {
    private(set) var duration = TimingAggregate()
    private(set) var upstream: TimingAggregate?
    /// (status, count), in order of first appearance; a handful per key.
    private(set) var statuses: [(status: Int16, count: UInt64)] = []
    private var history: [HistoryEntry] = []
    private var historyNext = 0
    private let historyCapacity: Int

    init(historyCapacity: Int) {
        self.historyCapacity = historyCapacity
        history.reserveCapacity(historyCapacity)
        statuses.reserveCapacity(4)
    }

    var hits: UInt64 { duration.count }

    func add(_ event: StatsEvent) {
        duration.add(nanoseconds: event.durationNanoseconds)
        if event.upstreamNanoseconds >= 0 {
            if upstream == nil { upstream = TimingAggregate() }
            upstream!.add(nanoseconds: event.upstreamNanoseconds)
        }
        if let index = statuses.firstIndex(where: { $0.status == event.status }) {
            statuses[index].count += 1
        } else {
            statuses.append((event.status, 1))
        }
        guard historyCapacity > 0 else { return }
        let entry = HistoryEntry(
            time: event.time, method: event.method, status: event.status, durationNanoseconds: event.durationNanoseconds,
            upstreamNanoseconds: event.upstreamNanoseconds)
        if history.count < historyCapacity {
            history.append(entry)
        } else {
            history[historyNext] = entry
        }
        historyNext = (historyNext + 1) % historyCapacity
    }

    func snapshot(key: String) -> KeySnapshot {
        // Oldest first. Loops hand their batches over separately, so entries from two loops can
        // arrive out of order: sort by the time each exchange finished.
        let ordered = history.sorted { $0.time < $1.time }
        return KeySnapshot(
            key: key, duration: duration.snapshot, upstream: upstream?.snapshot,
            statuses: statuses.map { StatusCount(status: Int($0.status), count: $0.count) }.sorted { $0.status < $1.status },
            history: ordered.map { entry in
                ExchangeRecord(
                    epochNanoseconds: entry.time, method: entry.method.text, status: Int(entry.status),
                    durationNanoseconds: entry.durationNanoseconds,
                    upstreamNanoseconds: entry.upstreamNanoseconds >= 0 ? entry.upstreamNanoseconds : nil)
            })
    }

    struct HistoryEntry {
        var time: Int64
        var method: InlineMethod
        var status: Int16
        var durationNanoseconds: Int64
        var upstreamNanoseconds: Int64
    }
}
