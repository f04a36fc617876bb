import AttacheRules
import NIOConcurrencyHelpers

/// Everything attache observes about itself, in one place the relay feeds and the admin port
/// reads: statistics of `record` rules, Prometheus metrics, the rule set in use and readiness,
/// and the access-log writer.
public final class Telemetry: Sendable {
    public static let version = "0.4.0"

    public let metrics: TelemetryMetrics
    public let stats: StatsStore
    public let status: RuntimeStatus
    public let accessLog: AccessLogWriter
    public let logFormat: LogFormat
    /// Where the rules were loaded from (for `/rules`).
    public let rulesPath: String
    /// Hands every loop's pending stats batch to the store (set by the relay).
    private let flushHandler = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    public init(
        rulesPath: String = "rules", accessLog: AccessLogWriter = AccessLogWriter(), logFormat: LogFormat = .text
    ) {
        metrics = TelemetryMetrics(version: Self.version)
        stats = StatsStore(metrics: metrics)
        status = RuntimeStatus()
        self.accessLog = accessLog
        self.logFormat = logFormat
        self.rulesPath = rulesPath
    }

    /// A table goes into service (at start, or after a reload): its generation and record plan.
    public func install(_ table: RuleTable, warnings: [Diagnostic] = [], isReload: Bool = false) -> (
        generation: Int, plan: RecordPlan
    ) {
        let time = SystemClock.epochNanoseconds()
        let generation = status.installed(table, path: rulesPath, warnings: warnings, at: time, isReload: isReload)
        metrics.rulesInstalled(generation: generation, epochSeconds: Double(time) / 1e9)
        if isReload { metrics.reloadAttempted(succeeded: true) }
        return (generation, stats.plan(for: table, generation: generation))
    }

    /// A reload was rejected: the table in use stays; the errors are kept for `/rules`.
    public func reloadFailed(_ diagnostics: [Diagnostic]) {
        status.reloadFailed(diagnostics, at: SystemClock.epochNanoseconds())
        metrics.reloadAttempted(succeeded: false)
    }

    /// A reload found exactly the rule set in use: nothing changes but the last attempt.
    public func reloadUnchanged() {
        status.reloadUnchanged(at: SystemClock.epochNanoseconds())
        metrics.reloadAttempted(succeeded: true)
    }

    public func setFlushHandler(_ handler: @escaping @Sendable () -> Void) {
        flushHandler.withLockedValue { $0 = handler }
    }

    /// Current statistics, after every loop has handed over what it holds. Blocks briefly:
    /// call it off the event loops.
    public func statsSnapshot(rule: String? = nil) -> StatsSnapshot {
        flushHandler.withLockedValue { $0 }?()
        return stats.snapshot(rule: rule)
    }

    /// The `/metrics` text.
    public func metricsExposition() -> [UInt8] {
        flushHandler.withLockedValue { $0 }?()
        return metrics.exposition(droppedLogLines: accessLog.droppedLines)
    }
}
