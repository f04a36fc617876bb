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

    /// One rule's two series and its label. Held here and by the rule's `RuleMetrics`, and
    /// refers to neither: `RuleMetrics` refers to the `TelemetryMetrics` that holds this set, so
    /// keeping `RuleMetrics` here would make a cycle that never frees either.
    final class Series {
        /// `rule="NAME"`, escaped as the text format wants label values.
        let labels: [UInt8]
        let duration = SecondsHistogram(bounds: TelemetryMetrics.durationBuckets)
        let upstream = SecondsHistogram(bounds: TelemetryMetrics.durationBuckets)

        init(rule: String) {
            var labels = Array(#"rule=""#.utf8)
            for byte in rule.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): labels.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\""): labels.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\n"): labels.append(contentsOf: #"\n"#.utf8)
                default: labels.append(byte)
                }
            }
            labels.append(UInt8(ascii: "\""))
            self.labels = labels
        }
    }

    private let lock = NIOLock()
    /// In the order the rules were added; a rule's series leave with it.
    private var series: [Series] = []

    /// New series for a rule, emitted from now on.
    func add(rule: String) -> Series {
        let added = Series(rule: rule)
        lock.withLock { series.append(added) }
        return added
    }

    func remove(_ removed: Series) {
        lock.withLock { series.removeAll { $0 === removed } }
    }

    /// Runs `body` holding the lock: record into any rule's histograms inside it.
    func recording<Result>(_ body: () -> Result) -> Result {
        lock.withLock(body)
    }

    /// Both families, each with its HELP and TYPE lines once; nothing while no rule records.
    func emit(into buffer: inout [UInt8]) {
        lock.withLock {
            guard !series.isEmpty else { return }
            for (family, histogram) in [(Self.request, \Series.duration), (Self.upstream, \Series.upstream)] {
                buffer.append(contentsOf: "# HELP \(family.name) \(family.help)\n".utf8)
                buffer.append(contentsOf: "# TYPE \(family.name) histogram\n".utf8)
                for rule in series {
                    rule[keyPath: histogram].emit(name: family.name, labels: rule.labels, into: &buffer)
                }
            }
        }
    }
}
