import AttacheRules
import Foundation
import Testing

@testable import AttacheTelemetry

/// The stats store and the per-loop recorders, without sockets: exact counts, history order,
/// percentiles, the key bound, concurrency and reloads.
struct StatsStoreTests {
    static func table(_ yaml: String) throws -> RuleTable {
        let outcome = RuleLoader().load(text: yaml)
        return try #require(outcome.table, "\(outcome.diagnostics)")
    }

    static let profile = """
        rules:
          - name: profile
            record: { history: 3 }
        """

    /// Records through a recorder the way a loop does.
    struct Feed {
        let recorder: StatsRecorder
        let slot: Int32
        var time: Int64 = 1_700_000_000_000_000_000

        mutating func add(
            _ key: String, method: String = "GET", status: Int = 200, milliseconds: Double, upstream: Double? = nil
        ) {
            time += 1_000_000
            let method = Array(method.utf8)
            let full = method.withUnsafeBytes { methodBytes in
                recorder.record(
                    slot: slot, key: Array(key.utf8), method: methodBytes, status: status,
                    durationNanoseconds: Int64(milliseconds * 1e6), upstreamNanoseconds: upstream.map { Int64($0 * 1e6) },
                    epochNanoseconds: time)
            }
            if full { recorder.flush() }
        }
    }

    static func feed(_ store: StatsStore, _ yaml: String = profile) throws -> Feed {
        let plan = store.plan(for: try table(yaml), generation: 1)
        return Feed(recorder: StatsRecorder(store: store), slot: try #require(plan.slot(forRule: 0)))
    }

    @Test func exactCountsStatusesAndHistoryOrder() throws {
        let store = StatsStore()
        var feed = try Self.feed(store)
        feed.add("/a", milliseconds: 2, upstream: 1.5)
        feed.add("/a", method: "POST", status: 201, milliseconds: 4, upstream: 3)
        feed.add("/b", status: 404, milliseconds: 1)
        feed.add("/a", status: 500, milliseconds: 8, upstream: 7)
        feed.add("/a", method: "DELETE", milliseconds: 6)
        // Nothing reaches the store before the batch is handed over.
        #expect(store.snapshot().rules[0].keys.isEmpty)
        feed.recorder.flush()

        let rule = store.snapshot().rules[0]
        #expect(rule.name == "profile")
        #expect(rule.hits == 5)
        #expect(rule.keys.map(\.key) == ["/a", "/b"])
        let a = try #require(rule.key("/a"))
        #expect(a.hits == 4)
        #expect(a.duration.totalNanoseconds == 20_000_000)
        #expect(a.duration.averageNanoseconds == 5_000_000)
        #expect(a.duration.minimumNanoseconds == 2_000_000)
        #expect(a.duration.maximumNanoseconds == 8_000_000)
        #expect(a.upstream?.count == 3)
        #expect(a.upstream?.totalNanoseconds == 11_500_000)
        #expect(a.statuses == [
            StatusCount(status: 200, count: 2), StatusCount(status: 201, count: 1), StatusCount(status: 500, count: 1),
        ])
        // History keeps the last three, oldest first.
        #expect(a.history.map(\.method) == ["POST", "GET", "DELETE"])
        #expect(a.history.map(\.status) == [201, 500, 200])
        #expect(a.history.map(\.durationNanoseconds) == [4_000_000, 8_000_000, 6_000_000])
        #expect(a.history.map(\.upstreamNanoseconds) == [3_000_000, 7_000_000, nil])
        #expect(a.history.map(\.epochNanoseconds) == [2, 4, 5].map { 1_700_000_000_000_000_000 + $0 * 1_000_000 })
        let b = try #require(rule.key("/b"))
        #expect(b.hits == 1)
        #expect(b.upstream == nil)
        #expect(b.statuses == [StatusCount(status: 404, count: 1)])
    }

    @Test func historyIsInTimeOrderWhateverOrderLoopsHandOver() throws {
        let store = StatsStore()
        let plan = store.plan(for: try Self.table(Self.profile), generation: 1)
        let slot = try #require(plan.slot(forRule: 0))
        var first = Feed(recorder: StatsRecorder(store: store), slot: slot)
        var second = Feed(recorder: StatsRecorder(store: store), slot: slot, time: first.time + 500_000)
        first.add("/x", method: "A", milliseconds: 1)  // +1.0 ms
        second.add("/x", method: "B", milliseconds: 1)  // +1.5 ms
        first.add("/x", method: "C", milliseconds: 1)  // +2.0 ms
        second.recorder.flush()
        first.recorder.flush()
        let key = try #require(store.snapshot().rules[0].key("/x"))
        #expect(key.history.map(\.method) == ["A", "B", "C"])
    }

    @Test func percentilesAreWithinOnePercent() throws {
        let store = StatsStore()
        var feed = try Self.feed(store)
        // 1 ms … 1000 ms, each once, in a shuffled order.
        var generator = SplitMix(seed: 7)
        for value in (1...1000).shuffled(using: &generator) {
            feed.add("/p", milliseconds: Double(value), upstream: Double(value) / 2)
        }
        feed.recorder.flush()
        let key = try #require(store.snapshot().rules[0].key("/p"))
        let duration = key.duration
        #expect(duration.minimumNanoseconds == 1_000_000)
        #expect(duration.maximumNanoseconds == 1_000_000_000)
        #expect(duration.totalNanoseconds == 500_500_000_000)
        for (measured, exact) in [
            (duration.p50Nanoseconds, 500.0), (duration.p90Nanoseconds, 900.0), (duration.p99Nanoseconds, 990.0),
            (duration.p999Nanoseconds, 999.0),
        ] {
            let milliseconds = Double(measured) / 1e6
            #expect(abs(milliseconds - exact) <= exact * 0.01, "\(milliseconds) ms for \(exact) ms")
        }
        let upstream = try #require(key.upstream)
        #expect(abs(Double(upstream.p50Nanoseconds) / 1e6 - 250) <= 2.5)
        #expect(abs(Double(upstream.p99Nanoseconds) / 1e6 - 495) <= 4.95)
    }

    @Test func keysBeyondTheBoundCountUnderOther() throws {
        let store = StatsStore()
        var feed = try Self.feed(store, """
            rules:
              - name: bounded
                record: { max_keys: 3 }
            """)
        for index in 0..<10 { feed.add("/k\(index)", milliseconds: 1) }
        feed.add("/k1", milliseconds: 1)  // an admitted key stays admitted
        feed.recorder.flush()
        let rule = store.snapshot().rules[0]
        #expect(rule.keys.map(\.key) == ["/k1", "/k0", "/k2", "(other)"])
        #expect(rule.keys.map(\.hits) == [2, 1, 1, 7])
        #expect(rule.hits == 11)
    }

    /// The key set stops at `max_keys`; the rest counts under `(other)`. (What that means for
    /// memory is measured where the process is attache alone: the reliability suite floods a
    /// running attache with 1,000,000 paths and checks its RSS stays flat. Here, the RSS of the
    /// test process also counts the tests running beside this one.)
    @Test func oneHundredThousandPathsStayBounded() throws {
        let store = StatsStore()
        var feed = try Self.feed(store, """
            rules:
              - name: paths
                record: true
            """)
        for index in 0..<100_000 { feed.add("/item/\(index)", milliseconds: 0.5, upstream: 0.25) }
        feed.recorder.flush()
        let rule = store.snapshot().rules[0]
        #expect(rule.keys.count == 1001)
        #expect(rule.keys.last?.key == "(other)")
        #expect(rule.keys.last?.hits == 99_000)
        #expect(rule.hits == 100_000)
        #expect(feed.recorder.knownKeyCount == 1000)
    }

    @Test func recordersOnManyThreadsLoseNothing() async throws {
        let store = StatsStore()
        let plan = store.plan(for: try Self.table(Self.profile), generation: 1)
        let slot = try #require(plan.slot(forRule: 0))
        let threads = 4
        let perThread = 25_000
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    var feed = Feed(recorder: StatsRecorder(store: store), slot: slot)
                    for index in 0..<perThread {
                        feed.add("/k\(index % 50)", status: (index / 50) % 5 == 0 ? 500 : 200, milliseconds: Double(thread + 1))
                    }
                    feed.recorder.flush()
                }
            }
        }
        let rule = store.snapshot().rules[0]
        #expect(rule.hits == UInt64(threads * perThread))
        #expect(rule.keys.count == 50)
        for key in rule.keys {
            #expect(key.hits == UInt64(threads * perThread / 50))
            #expect(key.statuses == [
                StatusCount(status: 200, count: UInt64(threads * perThread / 50 * 8 / 10)),
                StatusCount(status: 500, count: UInt64(threads * perThread / 50 * 2 / 10)),
            ])
            // 500 hits per thread per key, at 1, 2, 3 and 4 ms.
            #expect(key.duration.totalNanoseconds == 500 * (1 + 2 + 3 + 4) * 1_000_000)
        }
    }

    @Test func reloadKeepsUnchangedRulesAndResetsChangedOnes() throws {
        let store = StatsStore()
        let first = store.plan(for: try Self.table("""
            rules:
              - name: kept
                record: true
              - name: changed
                record: true
              - name: removed
                record: true
            """), generation: 1)
        let recorder = StatsRecorder(store: store)
        var kept = Feed(recorder: recorder, slot: try #require(first.slot(forRule: 0)))
        var changed = Feed(recorder: recorder, slot: try #require(first.slot(forRule: 1)))
        var removed = Feed(recorder: recorder, slot: try #require(first.slot(forRule: 2)))
        kept.add("/x", milliseconds: 1)
        changed.add("/x", milliseconds: 1)
        removed.add("/x", milliseconds: 1)
        recorder.flush()

        let second = store.plan(for: try Self.table("""
            rules:
              - name: added
                record: true
              - name: changed
                record: { history: 5 }
              - name: kept
                record: true
            """), generation: 2)
        recorder.keepOnly(second)
        #expect(second.slot(forRule: 2) == first.slot(forRule: 0))
        #expect(second.slot(forRule: 1) != first.slot(forRule: 1))
        // An exchange that started on the old table still records to the old slots.
        kept.add("/x", milliseconds: 1)
        removed.add("/x", milliseconds: 1)
        recorder.flush()

        let snapshot = store.snapshot()
        #expect(snapshot.generation == 2)
        #expect(snapshot.rules.map(\.name) == ["added", "changed", "kept"])
        #expect(snapshot.rules.map(\.hits) == [0, 0, 2])
        #expect(snapshot.rules[1].history == 5)
        #expect(store.snapshot(rule: "kept").rules.map(\.name) == ["kept"])
        #expect(store.snapshot(rule: "removed").rules.isEmpty)
        #expect(!store.recordsRule(named: "removed"))
    }

    @Test func prometheusSeriesFollowTheRecordedExchanges() throws {
        let metrics = TelemetryMetrics(version: "test")
        let store = StatsStore(metrics: metrics)
        var feed = try Self.feed(store)
        feed.add("/a", milliseconds: 0.3, upstream: 0.2)
        feed.add("/a", milliseconds: 30, upstream: 20)
        feed.add("/b", status: 404, milliseconds: 3)
        feed.recorder.flush()
        let text = String(decoding: metrics.exposition(droppedLogLines: 2), as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            #"attache_requests_total{rule="profile",code="200"} 2"#,
            #"attache_requests_total{rule="profile",code="404"} 1"#,
            #"attache_request_duration_seconds_bucket{rule="profile",le="0.0005"} 1"#,
            #"attache_request_duration_seconds_bucket{rule="profile",le="0.005"} 2"#,
            #"attache_request_duration_seconds_bucket{rule="profile",le="0.05"} 3"#,
            #"attache_request_duration_seconds_bucket{rule="profile",le="+Inf"} 3"#,
            #"attache_request_duration_seconds_count{rule="profile"} 3"#,
            #"attache_upstream_duration_seconds_bucket{rule="profile",le="0.0005"} 1"#,
            #"attache_upstream_duration_seconds_bucket{rule="profile",le="0.025"} 2"#,
            #"attache_upstream_duration_seconds_count{rule="profile"} 2"#,
            #"attache_build_info{version="test"} 1.0"#,
            "attache_access_log_dropped_lines 2.0",
            "# TYPE attache_requests_total counter",
            "# TYPE attache_request_duration_seconds histogram",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        // A status beyond the counters kept by index, then the rule gone: its series go too.
        feed.add("/c", status: 1200, milliseconds: 1)
        feed.recorder.flush()
        let withOdd = String(decoding: metrics.exposition(droppedLogLines: 0), as: UTF8.self)
        #expect(withOdd.contains(#"attache_requests_total{rule="profile",code="1200"} 1"#))
        _ = store.plan(for: try Self.table("rules:\n  - name: other\n    record: true\n"), generation: 2)
        let after = String(decoding: metrics.exposition(droppedLogLines: 0), as: UTF8.self)
        #expect(!after.contains(#"rule="profile""#))
    }
}

/// Nothing the metrics of a `record` rule hold keeps the store or the metrics alive: both are
/// freed once their owner lets go (the fuzz-relay target builds one per input and fails on any
/// leak; a cycle through the duration histograms once made it fail).
@Test func statsStoreAndMetricsAreFreedWithTheirOwner() throws {
    weak var weakMetrics: TelemetryMetrics?
    weak var weakStore: StatsStore?
    try {
        let metrics = TelemetryMetrics(version: "test")
        let store = StatsStore(metrics: metrics)
        var feed = try StatsStoreTests.feed(store)
        feed.add("/a", milliseconds: 1, upstream: 0.5)
        feed.recorder.flush()
        #expect(String(decoding: metrics.exposition(droppedLogLines: 0), as: UTF8.self)
            .contains(#"attache_request_duration_seconds_count{rule="profile"} 1"#))
        weakMetrics = metrics
        weakStore = store
    }()
    #expect(weakMetrics == nil)
    #expect(weakStore == nil)
}

/// A seeded generator, so shuffles repeat.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
