import AttacheRules
import AttacheTelemetry
import Foundation
import Testing

@testable import AttacheAdmin

/// Every admin route, answered by the router directly (no sockets).
struct AdminRouterTests {
    static func telemetry(_ yaml: String = "rules:\n  - name: profile\n    record: true\n") throws -> (Telemetry, RecordPlan) {
        let telemetry = Telemetry(accessLog: AccessLogWriter(descriptor: -1))
        let table = try #require(RuleLoader().load(text: yaml).table)
        return (telemetry, telemetry.install(table).plan)
    }

    static func text(_ response: AdminResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func unknownPathsAre404AndOtherMethods405() throws {
        let router = AdminRouter(telemetry: try Self.telemetry().0)
        let missing = router.respond(method: "GET", target: "/nope")
        #expect(missing.status == 404)
        #expect(Self.text(missing) == "404 Not Found: the admin port serves / /stats /metrics /rules /healthz /readyz\n")
        #expect(router.respond(method: "POST", target: "/nope").status == 404)
        for path in AdminRouter.paths {
            let response = router.respond(method: "POST", target: path)
            #expect(response.status == 405)
            #expect(response.headers == ["allow": "GET, HEAD"])
            #expect(Self.text(response) == "405 Method Not Allowed: use GET or HEAD\n")
            #expect(router.respond(method: "DELETE", target: path + "?x=1").status == 405)
        }
    }

    @Test func healthAndReadinessFollowThePhase() throws {
        let (telemetry, _) = try Self.telemetry()
        let router = AdminRouter(telemetry: telemetry)
        #expect(router.respond(method: "GET", target: "/healthz") == AdminResponse(
            status: 200, contentType: "text/plain; charset=utf-8", body: Array("ok\n".utf8)))
        #expect(Self.text(router.respond(method: "GET", target: "/readyz")) == "not ready: starting\n")
        #expect(router.respond(method: "GET", target: "/readyz").status == 503)
        telemetry.status.setPhase(.serving)
        #expect(router.respond(method: "HEAD", target: "/readyz").status == 200)
        #expect(Self.text(router.respond(method: "GET", target: "/readyz")) == "ready\n")
        telemetry.status.setPhase(.draining)
        #expect(router.respond(method: "GET", target: "/readyz").status == 503)
        #expect(Self.text(router.respond(method: "GET", target: "/readyz")) == "not ready: draining\n")
        #expect(router.respond(method: "GET", target: "/healthz").status == 200)
    }

    @Test func statsFiltersByRuleName() throws {
        let (telemetry, plan) = try Self.telemetry("""
            rules:
              - name: first rule
                record: true
              - name: second
                record: true
            """)
        let recorder = StatsRecorder(store: telemetry.stats)
        for rule in 0..<2 {
            _ = Array("GET".utf8).withUnsafeBytes { method in
                recorder.record(
                    slot: plan.slot(forRule: rule)!, key: Array("/k".utf8), method: method, status: 200,
                    durationNanoseconds: 1_000_000, upstreamNanoseconds: nil, epochNanoseconds: 0)
            }
        }
        recorder.flush()
        let router = AdminRouter(telemetry: telemetry)
        let all = router.respond(method: "GET", target: "/stats")
        #expect(all.status == 200)
        #expect(all.contentType == "application/json")
        let allRules = try #require(
            (try JSONSerialization.jsonObject(with: Data(all.body)) as? [String: Any])?["rules"] as? [String: Any])
        #expect(Set(allRules.keys) == ["first rule", "second"])
        let one = router.respond(method: "GET", target: "/stats?rule=first+rule")
        let oneRules = try #require(
            (try JSONSerialization.jsonObject(with: Data(one.body)) as? [String: Any])?["rules"] as? [String: Any])
        #expect(Set(oneRules.keys) == ["first rule"])
        // `%20` decodes like `+` (the documents differ only in their "time").
        let encoded = router.respond(method: "GET", target: "/stats?rule=first%20rule")
        let encodedRules = try #require(
            (try JSONSerialization.jsonObject(with: Data(encoded.body)) as? [String: Any])?["rules"] as? NSDictionary)
        #expect(encodedRules == oneRules as NSDictionary)
        let unknown = router.respond(method: "GET", target: "/stats?rule=nope")
        #expect(unknown.status == 404)
        #expect(Self.text(unknown) == "{\"error\":\"no rule named 'nope' records statistics\"}\n")
    }

    @Test func metricsAndRulesAndDashboard() throws {
        let (telemetry, _) = try Self.telemetry()
        let router = AdminRouter(telemetry: telemetry)
        let metrics = router.respond(method: "GET", target: "/metrics")
        #expect(metrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
        let lines = Set(Self.text(metrics).split(separator: "\n").map(String.init))
        #expect(lines.contains("attache_rules_generation 1.0"))
        #expect(lines.contains(#"attache_rules_reload_total{result="success"} 0"#))
        #expect(lines.contains(#"attache_rules_reload_total{result="failure"} 0"#))
        #expect(lines.contains("attache_connections_active 0.0"))
        #expect(lines.contains("# TYPE attache_build_info gauge"))
        #expect(lines.contains { $0.hasPrefix("process_resident_memory_bytes ") && !$0.hasSuffix(" 0.0") })

        let rules = router.respond(method: "GET", target: "/rules")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(rules.body)) as? [String: Any])
        #expect(document["generation"] as? Int == 1)
        #expect((document["rules"] as? [[String: Any]])?.map { $0["name"] as? String } == ["profile"])

        let page = router.respond(method: "GET", target: "/")
        #expect(page.status == 200)
        #expect(page.contentType == "text/html; charset=utf-8")
        let html = Self.text(page)
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("fetch(\"stats\""))
        // Self-contained: nothing loaded from elsewhere.
        #expect(!html.contains("src="))
        #expect(!html.contains("<link"))
        #expect(!html.contains("@import"))
        #expect(!html.contains("https://"))
        // Keys only ever become text nodes.
        #expect(!html.contains("innerHTML"))
    }

    @Test func queryDecoding() {
        let (path, query) = AdminRouter.split("/stats?rule=a%2Fb&x")
        #expect(path == "/stats")
        #expect(query.map(\.name) == ["rule", "x"])
        #expect(query.map(\.value) == ["a/b", ""])
        #expect(AdminRouter.decode("%zz%4") == "%zz%4")
        #expect(AdminRouter.decode("a+b%20c") == "a b c")
    }
}
