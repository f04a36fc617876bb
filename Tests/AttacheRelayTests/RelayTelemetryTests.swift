#if canImport(Glibc)
import Glibc
#endif
import AttacheRelay
import AttacheRules
import AttacheTelemetry
import Foundation
import Testing

/// `record` and `log` with real traffic: attache between a real client and a real upstream on
/// 127.0.0.1, statistics read back from the telemetry the admin port serves.
@Suite(.serialized)
struct RelayTelemetryTests {
    static let profileRules = """
        rules:
          - name: friendly-404
            when: { status: 404, origin: upstream }
            respond: { status: 404, body: "friendly" }
          - name: local
            when: { path: /local }
            respond: { status: 200, body: "here" }
          - name: profile
            record: { history: 4 }
        """

    @Test func statsAfterAKnownSequence() throws {
        let relay = try RelayHarness(rules: Self.profileRules)
        defer { relay.shutdown() }
        let client = try relay.client()
        let sequence: [(request: String, status: Int)] = [
            ("GET /status/200?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", 200),
            ("GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n", 404),
            ("POST /status/500 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", 500),
            ("GET /local HTTP/1.1\r\nHost: t\r\n\r\n", 200),
            ("DELETE /status/200 HTTP/1.1\r\nHost: t\r\n\r\n", 200),
        ]
        for (request, status) in sequence {
            try client.send(request)
            #expect(try client.readResponse().status == status)
        }
        let snapshot = relay.server.telemetry.statsSnapshot()
        #expect(snapshot.generation == 1)
        let rule = try #require(snapshot.rules.first)
        #expect(snapshot.rules.map(\.name) == ["profile"])
        #expect(rule.hits == 5)
        #expect(rule.keys.map(\.key) == ["/status/200", "/local", "/status/404", "/status/500"])
        #expect(rule.keys.map(\.hits) == [2, 1, 1, 1])
        let ok = try #require(rule.key("/status/200"))
        #expect(ok.statuses == [StatusCount(status: 200, count: 2)])
        #expect(ok.history.map(\.method) == ["GET", "DELETE"])
        #expect(ok.history.map(\.status) == [200, 200])
        #expect(ok.history[0].epochNanoseconds <= ok.history[1].epochNanoseconds)
        // With the whole history kept, the totals are exactly the sums of what it shows.
        #expect(ok.duration.totalNanoseconds == ok.history.reduce(0) { $0 + $1.durationNanoseconds })
        #expect(ok.upstream?.totalNanoseconds == ok.history.reduce(0) { $0 + $1.upstreamNanoseconds! })
        #expect(ok.history.allSatisfy { $0.upstreamNanoseconds! <= $0.durationNanoseconds })
        #expect(ok.duration.minimumNanoseconds == ok.history.map(\.durationNanoseconds).min())
        #expect(ok.duration.maximumNanoseconds == ok.history.map(\.durationNanoseconds).max())
        // The friendly 404 replaced the upstream's: the upstream answered, the status is 404.
        let missing = try #require(rule.key("/status/404"))
        #expect(missing.statuses == [StatusCount(status: 404, count: 1)])
        #expect(missing.upstream?.count == 1)
        #expect(rule.key("/status/500")?.history.map(\.method) == ["POST"])
        // Answered locally: no upstream time.
        let local = try #require(rule.key("/local"))
        #expect(local.upstream == nil)
        #expect(local.history.map(\.upstreamNanoseconds) == [nil])
    }

    @Test func percentilesFollowKnownUpstreamDelays() throws {
        let relay = try RelayHarness(rules: "rules:\n  - name: timing\n    record: { key: delays, history: 20 }\n")
        defer { relay.shutdown() }
        let client = try relay.client()
        for delay in Array(repeating: 20, count: 18) + [300, 300] {
            try client.send("GET /delay/\(delay) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "delayed")
        }
        let key = try #require(relay.server.telemetry.statsSnapshot().rules.first?.key("delays"))
        #expect(key.hits == 20)
        let milliseconds = { (value: Int64) in Double(value) / 1e6 }
        // Each duration is the upstream's delay plus attache's and the scheduler's share (other
        // suites run alongside, so allow for a busy machine).
        #expect(milliseconds(key.duration.minimumNanoseconds) >= 20)
        #expect((20...80).contains(milliseconds(key.duration.p50Nanoseconds)), "p50 \(key.duration.p50Nanoseconds)")
        #expect((20...80).contains(milliseconds(key.duration.p90Nanoseconds)), "p90 \(key.duration.p90Nanoseconds)")
        #expect((300...380).contains(milliseconds(key.duration.p99Nanoseconds)), "p99 \(key.duration.p99Nanoseconds)")
        // The histogram counts whole microseconds: the top percentile is the maximum to the µs.
        #expect(key.duration.maximumNanoseconds - key.duration.p999Nanoseconds < 1000)
        let upstream = try #require(key.upstream)
        #expect((20...80).contains(milliseconds(upstream.p50Nanoseconds)))
        #expect((300...380).contains(milliseconds(upstream.p99Nanoseconds)))
    }

    @Test func keysBeyondMaxKeysGoToOther() throws {
        let relay = try RelayHarness(rules: "rules:\n  - name: paths\n    record: { max_keys: 100, history: 0 }\n")
        defer { relay.shutdown() }
        let client = try relay.client()
        // 1,000 distinct paths, pipelined 50 at a time.
        for batch in 0..<20 {
            let requests = (0..<50).map { "GET /size/\(batch * 50 + $0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined()
            try client.send(requests)
            for _ in 0..<50 { #expect(try client.readResponse().status == 200) }
        }
        let rule = try #require(relay.server.telemetry.statsSnapshot(rule: "paths").rules.first)
        #expect(rule.keys.count == 101)
        #expect(rule.keys.last?.key == "(other)")
        #expect(rule.keys.last?.hits == 900)
        #expect(rule.hits == 1000)
        #expect(rule.keys.dropLast().allSatisfy { $0.hits == 1 && $0.history.isEmpty })
    }

    @Test func exactTotalsFromConcurrentClientsOnBothLoops() throws {
        let relay = try RelayHarness(rules: "rules:\n  - name: profile\n    record: { key: '{{ request.path }}' }\n")
        defer { relay.shutdown() }
        let clients = 16
        let perClient = 100
        let failures = LockedCounter()
        let port = relay.port
        DispatchQueue.concurrentPerform(iterations: clients) { _ in
            do {
                let client = try RawClient(port: port)
                for request in 0..<perClient {
                    let path = request % 2 == 0 ? "/status/200" : "/status/503"
                    try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
                    let response = try client.readResponse()
                    if response.status != (request % 2 == 0 ? 200 : 503) { failures.add() }
                }
            } catch {
                failures.add()
            }
        }
        #expect(failures.value == 0)
        let rule = try #require(relay.server.telemetry.statsSnapshot().rules.first)
        #expect(rule.hits == UInt64(clients * perClient))
        #expect(rule.key("/status/200")?.statuses == [StatusCount(status: 200, count: UInt64(clients * perClient / 2))])
        #expect(rule.key("/status/503")?.statuses == [StatusCount(status: 503, count: UInt64(clients * perClient / 2))])
        let metrics = String(decoding: relay.server.telemetry.metricsExposition(), as: UTF8.self)
        let lines = Set(metrics.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"attache_requests_total{rule="profile",code="200"} 800"#))
        #expect(lines.contains(#"attache_requests_total{rule="profile",code="503"} 800"#))
        #expect(lines.contains(#"attache_request_duration_seconds_count{rule="profile"} 1600"#))
        #expect(lines.contains(#"attache_upstream_duration_seconds_count{rule="profile"} 1600"#))
        #expect(lines.contains("attache_rules_generation 1.0"))
    }

    @Test func jsonAccessLogCarriesTheFieldsAndNoSecrets() throws {
        let relay = try RelayHarness(
            rules: """
                rules:
                  - name: access
                    log: '{{ request.method }} {{ request.path }} {{ response.status }}'
                  - name: audited
                    when: { path: /audit }
                    log: 'auth={{ request.header.authorization }}'
                """, logFormat: .json)
        defer { relay.shutdown() }
        let client = try relay.client()
        try client.send(
            "GET /set-cookie?token=1 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer SECRET-AUTH\r\nCookie: sid=SECRET-COOKIE\r\n"
                + "X-Forwarded-For: 10.9.8.7\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.header("set-cookie") == "sid=SECRET-SET-COOKIE")
        try client.send("GET /audit HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer NAMED-IN-A-RULE\r\n\r\n")
        _ = try client.readResponse()

        let lines = relay.logLines(expecting: 3)
        #expect(lines.count == 3)
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["rule"] as? String } == ["access", "access", "audited"])
        #expect(objects.map { $0["message"] as? String } == [
            "GET /set-cookie 200", "GET /audit 404", "auth=Bearer NAMED-IN-A-RULE",
        ])
        let first = objects[0]
        #expect(first["method"] as? String == "GET")
        #expect(first["path"] as? String == "/set-cookie")
        #expect(first["status"] as? Int == 200)
        #expect(first["client_ip"] as? String == "127.0.0.1")
        #expect((first["request_id"] as? String)?.isEmpty == false)
        #expect(first["request_id"] as? String != objects[1]["request_id"] as? String)
        #expect(objects[1]["request_id"] as? String == objects[2]["request_id"] as? String)
        #expect((first["duration_ms"] as? Double).map { $0 > 0 } == true)
        #expect((first["upstream_ms"] as? Double).map { $0 <= first["duration_ms"] as! Double } == true)
        #expect((first["time"] as? String)?.hasSuffix("Z") == true)
        #expect(Set(first.keys) == [
            "time", "rule", "message", "method", "path", "status", "duration_ms", "upstream_ms", "request_id",
            "client_ip",
        ])
        // Secrets reach the log only when a rule names their field.
        #expect(!lines.joined().contains("SECRET"))
    }

    @Test func activeConnectionsGauge() throws {
        let relay = try RelayHarness()
        defer { relay.shutdown() }
        func gauge() -> String? {
            String(decoding: relay.server.telemetry.metricsExposition(), as: UTF8.self)
                .split(separator: "\n").first { $0.hasPrefix("attache_connections_active ") }.map(String.init)
        }
        var clients = try (0..<3).map { _ in try relay.client() }
        #expect(eventually { gauge() == "attache_connections_active 3.0" })
        clients.removeAll()
        #expect(eventually { gauge() == "attache_connections_active 0.0" })
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// Swapping the rule table while exchanges are in flight.
@Suite(.serialized)
struct RelayReloadTests {
    static func rules(_ body: String) -> RuleTable {
        RuleLoader().load(text: """
            rules:
              - name: stamp
                when: { status: 200 }
                respond: { body: "\(body)" }
              - name: profile
                record: { key: all }
            """).table!
    }

    @Test func exchangesInFlightFinishOnTheTableTheyStartedWith() throws {
        let relay = try RelayHarness(rules: "rules:\n  - name: stamp\n    when: { status: 200 }\n    respond: { body: old }\n  - name: profile\n    record: { key: all }\n")
        defer { relay.shutdown() }
        let slow = try relay.client()
        try slow.send("GET /delay/300 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)  // the request is at the upstream now
        #expect(relay.server.replaceTable(Self.rules("new")) == 2)
        // A request that starts after the swap sees the new rules at once…
        #expect(try relay.request("GET /status/200 HTTP/1.1\r\nHost: t\r\n\r\n").text == "new")
        // …while the one in flight finishes on the rules it started with.
        #expect(try slow.readResponse().text == "old")
        // Both exchanges were recorded: `profile` kept its name and options, so its statistics.
        let stats = relay.server.telemetry.statsSnapshot()
        #expect(stats.generation == 2)
        #expect(stats.rules.first?.hits == 2)
    }
}
