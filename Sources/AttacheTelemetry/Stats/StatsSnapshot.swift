/// What `/stats` and `--stats-interval` report: every `record` rule (in rule order) with its keys.
public struct StatsSnapshot: Sendable {
    /// When the snapshot was taken, in nanoseconds since the epoch.
    public var epochNanoseconds: Int64
    public var generation: Int
    public var rules: [RuleStatsSnapshot]
}

/// One `record` rule: its options and its keys, busiest first, `(other)` last.
public struct RuleStatsSnapshot: Sendable {
    public var name: String
    public var history: Int
    public var maximumKeys: Int
    public var keys: [KeySnapshot]

    /// Exchanges recorded under every key, `(other)` included.
    public var hits: UInt64 { keys.reduce(0) { $0 + $1.hits } }

    public func key(_ key: String) -> KeySnapshot? {
        keys.first { $0.key == key }
    }
}

/// One key: timings, status counts and the last exchanges (oldest first).
public struct KeySnapshot: Sendable, Equatable {
    /// The key under which exchanges past a rule's `max_keys` are counted.
    public static let otherKey = "(other)"

    public var key: String
    public var duration: TimingSnapshot
    /// `nil` when no exchange under this key reached the upstream.
    public var upstream: TimingSnapshot?
    public var statuses: [StatusCount]
    public var history: [ExchangeRecord]

    public var hits: UInt64 { duration.count }
}

public struct StatusCount: Sendable, Equatable {
    public var status: Int
    public var count: UInt64

    public init(status: Int, count: UInt64) {
        self.status = status
        self.count = count
    }
}

/// Count, total, extremes and percentiles of a duration, in nanoseconds. Percentiles come from an
/// HdrHistogram with two significant digits: within 1 % of the exact value.
public struct TimingSnapshot: Sendable, Equatable {
    public var count: UInt64 = 0
    public var totalNanoseconds: Int64 = 0
    public var minimumNanoseconds: Int64 = 0
    public var maximumNanoseconds: Int64 = 0
    public var p50Nanoseconds: Int64 = 0
    public var p90Nanoseconds: Int64 = 0
    public var p99Nanoseconds: Int64 = 0
    public var p999Nanoseconds: Int64 = 0

    public var averageNanoseconds: Int64 { count == 0 ? 0 : totalNanoseconds / Int64(count) }
}

/// One exchange in a key's history.
public struct ExchangeRecord: Sendable, Equatable {
    public var epochNanoseconds: Int64
    public var method: String
    public var status: Int
    public var durationNanoseconds: Int64
    public var upstreamNanoseconds: Int64?
}
