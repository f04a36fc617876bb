import AttacheAdmin
import AttacheRelay
import AttacheTelemetry
import Foundation
import Testing

/// The admin port on a real socket beside a running relay: what `curl` and Prometheus see.
@Suite(.serialized)
struct AdminServerTests {
    @Test func statsOverTheAdminPortAfterRealTraffic() throws {
        let relay = try RelayHarness(rules: "rules:\n  - name: profile\n    record: true\n")
        defer { relay.shutdown() }
        let admin = AdminServer(telemetry: relay.server.telemetry)
        let adminPort = try admin.start(host: "127.0.0.1", port: 0).port!
        defer { admin.shutdown() }
        #expect(adminPort != relay.port)

        let client = try relay.client()
        for path in ["/status/200", "/status/200", "/status/404"] {
            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try client.readResponse()
        }

        // Two requests on one keep-alive connection, then a HEAD and a POST.
        let scraper = try RawClient(port: adminPort)
        try scraper.send("GET /stats?rule=profile HTTP/1.1\r\nHost: admin\r\n\r\n")
        let stats = try scraper.readResponse()
        #expect(stats.status == 200)
        #expect(stats.header("content-type") == "application/json")
        #expect(stats.header("cache-control") == "no-store")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any])
        let keys = try #require(
            ((document["rules"] as? [String: Any])?["profile"] as? [String: Any])?["keys"] as? [String: [String: Any]])
        #expect(keys["/status/200"]?["hits"] as? Int == 2)
        #expect(keys["/status/404"]?["hits"] as? Int == 1)
        #expect(keys["/status/404"]?["statuses"] as? [String: Int] == ["404": 1])

        try scraper.send("GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n")
        let metrics = try scraper.readResponse()
        #expect(metrics.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
        let lines = Set(metrics.text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"attache_requests_total{rule="profile",code="200"} 2"#))
        #expect(lines.contains(#"attache_requests_total{rule="profile",code="404"} 1"#))

        try scraper.send("HEAD /healthz HTTP/1.1\r\nHost: admin\r\n\r\n")
        let head = try scraper.readResponse(headRequest: true)
        #expect(head.status == 200)
        #expect(head.header("content-length") == "3")
        #expect(head.body.isEmpty)

        try scraper.send("POST /rules HTTP/1.1\r\nHost: admin\r\nContent-Length: 2\r\n\r\nhi")
        let post = try scraper.readResponse()
        #expect(post.status == 405)
        #expect(post.header("allow") == "GET, HEAD")

        try scraper.send("GET /readyz HTTP/1.0\r\n\r\n")
        let ready = try scraper.readResponse()
        #expect(ready.status == 200)
        #expect(ready.text == "ready\n")
        #expect(scraper.receiveUntilClosed())

        // Draining: not ready any more, still alive.
        relay.server.telemetry.status.setPhase(.draining)
        let later = try RawClient(port: adminPort)
        try later.send("GET /readyz HTTP/1.1\r\nHost: admin\r\n\r\nGET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n")
        #expect(try later.readResponse().status == 503)
        #expect(try later.readResponse().status == 200)
    }
}
