import Prometheus
import Testing

@testable import AttacheTelemetry

struct SecondsHistogramTests {
    /// Values on a bound count in that bucket (`le`), values above every bound only in `+Inf`.
    @Test func bucketsFollowLessOrEqual() {
        let histogram = SecondsHistogram(bounds: [0.001, 0.01, 1])
        let values: [Double] = [0.0, 0.001, 0.0011, 0.01, 0.5, 1, 1.5, 60]
        for value in values { histogram.record(value) }
        let sum = values.reduce(0, +)
        #expect(histogram.counts == [2, 2, 2, 2])
        #expect(histogram.count == 8)
        #expect(histogram.sum == sum)
        var text: [UInt8] = []
        histogram.emit(name: "x_seconds", labels: Array(#"rule="a""#.utf8), into: &text)
        #expect(String(decoding: text, as: UTF8.self) == """
            x_seconds_bucket{rule="a",le="0.001"} 2
            x_seconds_bucket{rule="a",le="0.01"} 4
            x_seconds_bucket{rule="a",le="1.0"} 6
            x_seconds_bucket{rule="a",le="+Inf"} 8
            x_seconds_sum{rule="a"} \(sum)
            x_seconds_count{rule="a"} 8

            """)
    }

    /// `/metrics` reads the same as when swift-prometheus kept these histograms: the same
    /// values into its `ValueHistogram` and into ours give the same lines, label escaping too.
    @Test func textMatchesSwiftPrometheus() throws {
        let values = [0.0002, 0.0005, 0.003, 0.02, 0.02, 0.7, 2, 59.9, 61, 1e-9]
        let rule = #"a "quoted" \ rule"#
        let registry = PrometheusCollectorRegistry()
        let theirs = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "attache", metricName: "request_duration", unitName: "seconds",
                helpText: DurationHistograms.request.help),
            labels: [("rule", rule)], buckets: TelemetryMetrics.durationBuckets)
        let metrics = TelemetryMetrics(version: "test")
        let ours = RuleMetrics(rule: rule, metrics: metrics)
        for value in values {
            theirs.record(value)
            ours.durations.duration.record(value)
        }
        let expected = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        let text = String(decoding: metrics.exposition(droppedLogLines: 0), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("# HELP attache_request_duration_seconds") })
        let family = lines[start...].prefix { !$0.hasPrefix("# HELP attache_upstream") }
        #expect(family.joined(separator: "\n") + "\n" == expected)
    }
}
