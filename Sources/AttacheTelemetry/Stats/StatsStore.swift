import AttacheRules
import NIOConcurrencyHelpers

/// The statistics of every `record` rule: per rule, per key, one copy for the whole process.
///
/// Event loops never write here per exchange: each has a `StatsRecorder` that appends plain
/// events to a batch and hands the batch over at most every 100 ms (or when it is full), so the
/// lock is taken once per batch, not per exchange, and the loops do not contend. Keys are
/// admitted here, once per key and loop, so a rule's bound on keys holds across loops.
///
/// Rules are identified by name across reloads: a rule whose name and `record` options stay the
/// same keeps its statistics; one whose options change starts again; a removed rule's are dropped.
public final class StatsStore: @unchecked Sendable {
    private let lock = NIOLock()
    /// Every slot ever made; retired ones are `nil` (slot numbers are never reused).
    private var slots: [RuleStats?] = []
    private var slotByName: [String: Int32] = [:]
    /// The slots of the current plan, in rule order (the order snapshots list them).
    private var order: [Int32] = []
    private var generation = 0
    private let metrics: TelemetryMetrics?

    public init(metrics: TelemetryMetrics? = nil) {
        self.metrics = metrics
    }

    /// Prepares the slots for a newly installed table and returns its plan.
    public func plan(for table: RuleTable, generation: Int) -> RecordPlan {
        lock.withLock {
            self.generation = generation
            var planned = [Int32](repeating: -1, count: table.rules.count)
            var kept = Set<Int32>()
            for rule in table.rules {
                guard let record = rule.record else { continue }
                if let slot = slotByName[rule.name], let stats = slots[Int(slot)],
                    stats.history == record.history, stats.maximumKeys == record.maximumKeys
                {
                    planned[rule.index] = slot
                    kept.insert(slot)
                    continue
                }
                if let old = slotByName[rule.name] { retire(old) }
                let slot = Int32(slots.count)
                slots.append(
                    RuleStats(
                        name: rule.name, history: record.history, maximumKeys: record.maximumKeys,
                        metrics: metrics.map { RuleMetrics(rule: rule.name, metrics: $0) }))
                slotByName[rule.name] = slot
                planned[rule.index] = slot
                kept.insert(slot)
            }
            for (_, slot) in slotByName where !kept.contains(slot) { retire(slot) }
            order = planned.filter { $0 >= 0 }
            return RecordPlan(slots: planned)
        }
    }

    private func retire(_ slot: Int32) {
        guard let stats = slots[Int(slot)] else { return }
        if let ruleMetrics = stats.metrics { metrics?.unregister(ruleMetrics) }
        slots[Int(slot)] = nil
        if slotByName[stats.name] == slot { slotByName[stats.name] = nil }
    }

    enum Admission {
        /// The key has this index in its rule.
        case key(Int32)
        /// The rule is full and the key is not one of its keys: it counts under `(other)`. The
        /// rule's keys never change again, so the caller may keep them and decide alone.
        case full(keys: [[UInt8]: Int32])
        /// The rule is gone (the exchange started before a reload): nothing to record.
        case retired
    }

    /// Admits a key a loop has not seen before.
    func admit(slot: Int32, key: [UInt8]) -> Admission {
        lock.withLock {
            guard let stats = slots[Int(slot)] else { return .retired }
            if let index = stats.keyIndex[key] { return .key(index) }
            guard stats.keys.count < stats.maximumKeys else { return .full(keys: stats.keyIndex) }
            let index = Int32(stats.keys.count)
            stats.keys.append(KeyStats(historyCapacity: stats.history))
            stats.keyNames.append(key)
            stats.keyIndex[key] = index
            return .key(index)
        }
    }

    /// Adds a batch of events (from one loop).
    func apply(_ events: UnsafeBufferPointer<StatsEvent>) {
        lock.withLock {
            let addAll = {
                for event in events {
                    guard let stats = self.slots[Int(event.slot)] else { continue }
                    stats.add(event)
                }
            }
            if let metrics { metrics.durationHistograms.recording(addAll) } else { addAll() }
        }
    }

    /// The statistics of every current `record` rule, or of the one named.
    public func snapshot(rule name: String? = nil) -> StatsSnapshot {
        let time = SystemClock.epochNanoseconds()
        return lock.withLock {
            var rules: [RuleStatsSnapshot] = []
            for slot in order {
                guard let stats = slots[Int(slot)], name == nil || stats.name == name else { continue }
                rules.append(stats.snapshot())
            }
            return StatsSnapshot(epochNanoseconds: time, generation: generation, rules: rules)
        }
    }

    /// Whether a current rule of that name records statistics.
    public func recordsRule(named name: String) -> Bool {
        lock.withLock { order.contains { slots[Int($0)]?.name == name } }
    }
}

/// One rule's keys and their statistics (inside the store, under its lock).
final class RuleStats {
    let name: String
    let history: Int
    let maximumKeys: Int
    var keys: [KeyStats] = []
    var keyNames: [[UInt8]] = []
    var keyIndex: [[UInt8]: Int32] = [:]
    var other: KeyStats?
    let metrics: RuleMetrics?

    init(name: String, history: Int, maximumKeys: Int, metrics: RuleMetrics?) {
        self.name = name
        self.history = history
        self.maximumKeys = maximumKeys
        self.metrics = metrics
    }

    func add(_ event: StatsEvent) {
        if event.key >= 0 {
            keys[Int(event.key)].add(event)
        } else {
            if other == nil { other = KeyStats(historyCapacity: history) }
            other!.add(event)
        }
        guard let metrics else { return }
        metrics.counter(status: event.status).increment()
        // Under the histograms' lock: `StatsStore.apply` holds it for the whole batch.
        metrics.durations.duration.record(Double(event.durationNanoseconds) / 1e9)
        if event.upstreamNanoseconds >= 0 { metrics.durations.upstream.record(Double(event.upstreamNanoseconds) / 1e9) }
    }

    func snapshot() -> RuleStatsSnapshot {
        // A key admitted by a loop whose batch has not arrived yet has no hits: not shown.
        var snapshots = zip(keyNames, keys).filter { $0.1.hits > 0 }.map { name, stats in
            stats.snapshot(key: String(decoding: name, as: UTF8.self))
        }
        snapshots.sort { $0.hits != $1.hits ? $0.hits > $1.hits : $0.key < $1.key }
        if let other { snapshots.append(other.snapshot(key: KeySnapshot.otherKey)) }
        return RuleStatsSnapshot(name: name, history: history, maximumKeys: maximumKeys, keys: snapshots)
    }
}
