#if canImport(Glibc)
import Glibc
#endif
import AttacheRelay
import AttacheTelemetry
import Foundation
import Testing

/// Every rule set that ships does what its comment says: each runs in attache between a real
/// client and a real upstream (`TestUpstream`: `/status/N` answers N, other paths 404).
@Suite(.serialized)
struct SamplesTests {
    static func json(_ response: HTTPTestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test func defaultRules() throws {
        let relay = try RelayHarness(rulesPath: "rules")
        defer { relay.shutdown() }
        // A friendly 404 page instead of the service's own…
        let missing = try relay.request("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(missing.status == 404)
        #expect(missing.header("server") == "Sitio")
        #expect(missing.text.contains("<h1>Endpoint Not Found</h1>"))
        #expect(missing.text.contains("<p>GET /missing is not here.</p>"))
        // …everything else passed through…
        let ok = try relay.request("GET /status/200 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(ok.status == 200)
        #expect(ok.text == "status 200")
        // …timing recorded for every endpoint, one access-log line per request.
        let rule = try #require(relay.server.telemetry.statsSnapshot(rule: "profile").rules.first)
        #expect(rule.keys.map(\.key).sorted() == ["/missing", "/status/200"])
        let lines = relay.logLines(expecting: 2)
        #expect(lines.count == 2)
        #expect(lines.contains { $0.hasPrefix("GET /missing 404 ") && $0.hasSuffix("ms") })
        #expect(lines.contains { $0.hasPrefix("GET /status/200 200 ") && $0.hasSuffix("ms") })
    }

    @Test func friendly404() throws {
        let relay = try RelayHarness(rulesPath: "samples/friendly-404")
        defer { relay.shutdown() }
        // Browsers get the page (the status stays 404).
        let page = try relay.request("GET /nope HTTP/1.1\r\nHost: t\r\nAccept: text/html,*/*\r\n\r\n")
        #expect(page.status == 404)
        #expect(page.header("content-type") == "text/html; charset=utf-8")
        #expect(page.header("cache-control") == "no-store")
        #expect(page.text.contains("<p><code>GET /nope</code> is not served here.</p>"))
        // Everything else gets a small JSON answer.
        let api = try relay.request("GET /nope HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n\r\n")
        #expect(api.status == 404)
        #expect(api.header("content-type") == "application/json")
        #expect(api.text == #"{"error": "not found", "path": "/nope"}"#)
        // Other statuses pass.
        #expect(try relay.request("GET /status/500 HTTP/1.1\r\nHost: t\r\n\r\n").text == "status 500")
    }

    @Test func jsonAPIErrors() throws {
        let relay = try RelayHarness(rulesPath: "samples/json-api-errors")
        defer { relay.shutdown() }
        // The service's 404 and 5xx under /api/ become one JSON shape.
        let missing = try relay.request("GET /api/orders?id=%22x%22 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(missing.status == 404)
        #expect(try Self.json(missing) as NSDictionary == ["error": "not_found", "path": "/api/orders", "query": "id=%22x%22"])
        let failing = try relay.request("GET /status/503 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(failing.text == "status 503")  // not under /api/: untouched
        // Log lines for API errors escape what clients send.
        _ = try relay.request("GET /api/x HTTP/1.1\r\nHost: t\r\nUser-Agent: say \"hi\" \\o/\r\n\r\n")
        let lines = relay.logLines(expecting: 2)
        #expect(lines == [
            "GET /api/orders?id=%22x%22 404 upstream -",
            "GET /api/x 404 upstream say \"hi\" \\x5Co/",
        ])

        // attache's own 502 (nothing listens upstream) is a problem+json document.
        let closed = try RelayHarness(rulesPath: "samples/json-api-errors") { $0.upstreamPort = 1 }
        defer { closed.shutdown() }
        let unavailable = try closed.request("GET /api/a%22b HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(unavailable.status == 502)
        #expect(unavailable.header("content-type") == "application/problem+json")
        let problem = try Self.json(unavailable)
        #expect(problem["title"] as? String == "Bad Gateway")
        #expect(problem["status"] as? Int == 502)
        #expect(problem["instance"] as? String == "/api/a%22b")
        #expect((problem["request_id"] as? String)?.isEmpty == false)
    }

    @Test func maintenance() throws {
        let relay = try RelayHarness(rulesPath: "samples/maintenance")
        defer { relay.shutdown() }
        let before = relay.upstream.requestCount
        // Writes to /orders get a 503 from attache, without reaching the service.
        let write = try relay.request("POST /orders/42 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
        #expect(write.status == 503)
        #expect(write.header("retry-after") == "120")
        #expect(write.text == #"{"error": "maintenance", "method": "POST", "path": "/orders/42"}"#)
        #expect(relay.upstream.requestCount == before)
        // Reads still go through.
        let read = try relay.request("GET /orders/42 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(read.status == 404)
        #expect(relay.upstream.requestCount == before + 1)
        // The v1 reports are gone for good.
        let gone = try relay.request("GET /reports/v1/2024 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(gone.status == 410)
        #expect(gone.text == "The v1 reports are gone; use /reports/v2.\n")
        #expect(relay.logLines(expecting: 2) == [
            "POST /orders/42 -> 503 (orders-maintenance)", "GET /orders/42 -> 404 (upstream)",
        ])
    }

    @Test func profiler() throws {
        let relay = try RelayHarness(rulesPath: "samples/profiler")
        defer { relay.shutdown() }
        let client = try relay.client()
        for request in [
            "GET /users/1/orders", "GET /users/2/profile", "GET /api/items", "POST /api/items", "GET /status/503",
        ] {
            try client.send("\(request) HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            _ = try client.readResponse()
        }
        let stats = relay.server.telemetry.statsSnapshot()
        #expect(stats.rules.map(\.name) == ["users", "api", "everything"])
        // One key for every user, not one per id.
        #expect(stats.rules[0].keys.map(\.key) == ["/users/{id}"])
        #expect(stats.rules[0].keys[0].hits == 2)
        #expect(stats.rules[0].history == 20)
        #expect(stats.rules[1].keys.map(\.key).sorted() == ["GET /api/items", "POST /api/items"])
        #expect(stats.rules[1].maximumKeys == 500)
        #expect(stats.rules[2].hits == 5)
        // Failures are logged with their timings.
        let line = try #require(relay.logLines(expecting: 1).first)
        #expect(line.range(
            of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z GET /status/503 503 \d+\.\d{3}ms upstream=\d+\.\d{3}ms$"#,
            options: .regularExpression) != nil, "\(line)")
    }
}
