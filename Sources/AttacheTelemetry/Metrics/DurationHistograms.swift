import NIOConcurrencyHelpers

/// The two duration histograms of every `record` rule (`attache_request_duration_seconds` and
/// `attache_upstream_duration_seconds`), written into `/metrics` after swift-prometheus'
/// registry, in the same text format. One lock guards them all: the stats store takes it once
/// per batch of exchanges, `/metrics` once per scrape.
final class DurationHistograms: @unchecked Sendable {
    struct Family {
        let name: String
        let help: String
    }

    static let request = Family(
        name: "attache_request_duration_seconds",
        help: "Time from the request head to the end of the response, per `record` rule.")
    static let upstream = Family(
        name: "attache_upstream_duration_seconds",
        help: "Time from sending the request upstream to the upstream's response head, per `record` rule.")

    private let lock = NIOLock()
    /// In the order the rules were added; a rule's series leave with it.
    private var rules: [RuleMetrics] = []

    func add(_ metrics: RuleMetrics) {
        lock.withLock { rules.append(metrics) }
    }

    func remove(_ metrics: RuleMetrics) {
        lock.withLock { rules.removeAll { $0 === metrics } }
    }

    /// Runs `body` holding the lock: record into any rule's histograms inside it.
    func recording<Result>(_ body: () -> Result) -> Result {
        lock.withLock(body)
    }

    /// Both families, each with its HELP and TYPE lines once; nothing while no rule records.
    func emit(into buffer: inout [UInt8]) {
        lock.withLock {
            guard !rules.isEmpty else { return }
            for (family, histogram) in [(Self.request, \RuleMetrics.duration), (Self.upstream, \RuleMetrics.upstream)] {
                buffer.append(contentsOf: "# HELP \(family.name) \(family.help)\n".utf8)
                buffer.append(contentsOf: "# TYPE \(family.name) histogram\n".utf8)
                for rule in rules {
                    rule[keyPath: histogram].emit(name: family.name, labels: rule.labels, into: &buffer)
                }
            }
        }
    }
}
