#if canImport(Glibc)
import Glibc
#endif
import AttacheRules
import Prometheus

/// attache's Prometheus metrics, kept in a swift-prometheus registry that `/metrics` renders.
///
/// Per-exchange metrics are fed by the stats store when a loop hands over its batch (never per
/// exchange from the loops); connection and rule-set metrics are set where those change.
public final class TelemetryMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let connectionsActive: Gauge
    let rulesGeneration: Gauge
    let reloadSuccesses: Counter
    let reloadFailures: Counter
    let lastReloadSuccess: Gauge
    let accessLogDropped: Gauge
    let residentMemory: Gauge
    let startTime: Gauge
    /// The `record` rules' duration histograms: attache's own, not the registry's (see
    /// `SecondsHistogram` for why).
    let durationHistograms = DurationHistograms()

    /// Upper bounds of the duration histograms' buckets, in seconds. `Double` values, not
    /// `Duration`: recording compares the value with every bound, and a `Duration` comparison
    /// is a call into the runtime (about 1,100 instructions per recorded exchange for the two
    /// histograms; a `Double` one is an instruction).
    public static let durationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    public init(version: String) {
        connectionsActive = registry.makeGauge(
            descriptor: Self.name("connections_active", "", "Client connections open now."))
        rulesGeneration = registry.makeGauge(
            descriptor: Self.name("rules_generation", "", "Generation of the rule set in use: 1 at start, +1 per reload."))
        let reloads = Self.name("rules_reload", "total", "Rule-set reloads attempted, by result.")
        reloadSuccesses = registry.makeCounter(descriptor: reloads, labels: [("result", "success")])
        reloadFailures = registry.makeCounter(descriptor: reloads, labels: [("result", "failure")])
        lastReloadSuccess = registry.makeGauge(
            descriptor: Self.name(
                "rules_last_reload_success_timestamp", "seconds",
                "When the rule set in use was loaded (start or last successful reload), in seconds since the epoch."))
        accessLogDropped = registry.makeGauge(
            descriptor: Self.name(
                "access_log_dropped_lines", "",
                "Access-log lines dropped because standard output could not keep up."))
        residentMemory = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "resident_memory", unitName: "bytes",
                helpText: "Resident memory size in bytes."))
        startTime = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "start_time", unitName: "seconds",
                helpText: "Start time of the process since the epoch, in seconds."))
        let build = registry.makeGauge(
            descriptor: Self.name("build", "info", "attache's version; the value is always 1."),
            labels: [("version", version)])
        build.set(to: 1)
        startTime.set(to: Double(SystemClock.epochNanoseconds()) / 1e9)
    }

    /// The text exposition format (version 0.0.4), with process figures read now.
    public func exposition(droppedLogLines: Int) -> [UInt8] {
        residentMemory.set(to: Double(Self.residentBytes()))
        accessLogDropped.set(to: Double(droppedLogLines))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        durationHistograms.emit(into: &buffer)
        return buffer
    }

    public func connectionOpened() { connectionsActive.increment() }
    public func connectionClosed() { connectionsActive.decrement() }

    func rulesInstalled(generation: Int, epochSeconds: Double) {
        rulesGeneration.set(to: Double(generation))
        lastReloadSuccess.set(to: epochSeconds)
    }

    func reloadAttempted(succeeded: Bool) {
        (succeeded ? reloadSuccesses : reloadFailures).increment()
    }

    // MARK: Per rule

    func requestCounter(rule: String, status: Int) -> Counter {
        registry.makeCounter(
            descriptor: Self.name("requests", "total", "Exchanges recorded by each `record` rule, by final status."),
            labels: [("rule", rule), ("code", String(status))])
    }

    func unregister(_ metrics: RuleMetrics) {
        for counter in metrics.counters { registry.unregisterCounter(counter) }
        durationHistograms.remove(metrics.durations)
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "attache", metricName: metric, unitName: unit, helpText: help)
    }

    /// Resident set size: the second field of /proc/self/statm, in pages.
    public static func residentBytes() -> Int {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer[0..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }
}

/// The Prometheus series of one `record` rule, made once and fed from the stats store.
final class RuleMetrics {
    let rule: String
    let owner: TelemetryMetrics
    /// The request counter of each final status, made on first use, found by index: a
    /// dictionary lookup hashed the status for every recorded exchange.
    private var countersByStatus = [Counter?](repeating: nil, count: 1000)
    private var otherCounters: [Int16: Counter] = [:]
    /// The rule's duration histograms (in `owner.durationHistograms`, which `/metrics` writes).
    let durations: DurationHistograms.Series

    init(rule: String, metrics: TelemetryMetrics) {
        self.rule = rule
        owner = metrics
        durations = metrics.durationHistograms.add(rule: rule)
    }

    func counter(status: Int16) -> Counter {
        if status >= 0 && Int(status) < countersByStatus.count {
            if let counter = countersByStatus[Int(status)] { return counter }
            let counter = owner.requestCounter(rule: rule, status: Int(status))
            countersByStatus[Int(status)] = counter
            return counter
        }
        if let counter = otherCounters[status] { return counter }
        let counter = owner.requestCounter(rule: rule, status: Int(status))
        otherCounters[status] = counter
        return counter
    }

    var counters: [Counter] { countersByStatus.compactMap { $0 } + otherCounters.values }
}
