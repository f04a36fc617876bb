import AttacheRules
import Foundation
import Logging
import Testing

@testable import AttacheTelemetry

/// The JSON documents attache writes, byte for byte: `/stats`, access-log lines, `/rules` and
/// process messages.
struct TelemetryJSONTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func writerNestsSeparatesAndEscapes() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a\"b")
        writer.beginArray()
        writer.int(1)
        writer.string("x\ny\u{1}")
        writer.beginObject()
        writer.endObject()
        writer.null()
        writer.bool(false)
        writer.endArray()
        writer.key("ms")
        writer.milliseconds(nanoseconds: 12_345_678)
        writer.key("bad")
        writer.string(bytes: [0x61, 0xFF, 0x62])
        writer.key("when")
        writer.time(epochNanoseconds: 1_764_172_800_123_000_000)
        writer.endObject()
        #expect(Self.text(writer.bytes) == #"{"a\"b":[1,"x\ny\u0001",{},null,false],"ms":12.345,"bad":"a\uFFFDb","when":"2025-11-26T16:00:00.123Z"}"#)
        writer.reset()
        writer.beginArray()
        writer.endArray()
        #expect(Self.text(writer.bytes) == "[]")
    }

    @Test func statsDocumentIsExact() {
        let snapshot = StatsSnapshot(
            epochNanoseconds: 1_764_172_800_000_000_000, generation: 3,
            rules: [
                RuleStatsSnapshot(
                    name: "profile", history: 10, maximumKeys: 1000,
                    keys: [
                        KeySnapshot(
                            key: "/api/\"users\"",
                            duration: TimingSnapshot(
                                count: 2, totalNanoseconds: 3_000_000, minimumNanoseconds: 1_000_000,
                                maximumNanoseconds: 2_000_000, p50Nanoseconds: 1_000_000, p90Nanoseconds: 2_000_000,
                                p99Nanoseconds: 2_000_000, p999Nanoseconds: 2_000_000),
                            upstream: nil,
                            statuses: [StatusCount(status: 200, count: 1), StatusCount(status: 404, count: 1)],
                            history: [
                                ExchangeRecord(
                                    epochNanoseconds: 1_764_172_799_500_000_000, method: "GET", status: 404,
                                    durationNanoseconds: 1_000_000, upstreamNanoseconds: nil)
                            ]),
                        KeySnapshot(
                            key: "(other)",
                            duration: TimingSnapshot(
                                count: 1, totalNanoseconds: 500_000, minimumNanoseconds: 500_000,
                                maximumNanoseconds: 500_000, p50Nanoseconds: 500_000, p90Nanoseconds: 500_000,
                                p99Nanoseconds: 500_000, p999Nanoseconds: 500_000),
                            upstream: TimingSnapshot(
                                count: 1, totalNanoseconds: 250_000, minimumNanoseconds: 250_000,
                                maximumNanoseconds: 250_000, p50Nanoseconds: 250_000, p90Nanoseconds: 250_000,
                                p99Nanoseconds: 250_000, p999Nanoseconds: 250_000),
                            statuses: [StatusCount(status: 200, count: 1)], history: []),
                    ])
            ])
        let expected = """
            {"time":"2025-11-26T16:00:00.000Z","generation":3,"rules":{"profile":{"hits":3,"history":10,"max_keys":1000,\
            "keys_tracked":1,"keys":{"/api/\\"users\\"":{"hits":2,"total_ms":3.000,"average_ms":1.500,"min_ms":1.000,\
            "max_ms":2.000,"p50_ms":1.000,"p90_ms":2.000,"p99_ms":2.000,"p999_ms":2.000,"upstream":null,\
            "statuses":{"200":1,"404":1},"history":[{"time":"2025-11-26T15:59:59.500Z","method":"GET","status":404,\
            "duration_ms":1.000,"upstream_ms":null}]},"(other)":{"hits":1,"total_ms":0.500,"average_ms":0.500,\
            "min_ms":0.500,"max_ms":0.500,"p50_ms":0.500,"p90_ms":0.500,"p99_ms":0.500,"p999_ms":0.500,\
            "upstream":{"hits":1,"total_ms":0.250,"average_ms":0.250,"min_ms":0.250,"max_ms":0.250,"p50_ms":0.250,\
            "p90_ms":0.250,"p99_ms":0.250,"p999_ms":0.250},"statuses":{"200":1},"history":[]}}}}}
            """
        #expect(Self.text(snapshot.json()) == expected)
        // And it is JSON.
        #expect((try? JSONSerialization.jsonObject(with: Data(snapshot.json()))) != nil)
    }

    @Test func accessLogEntryIsOneJSONObject() {
        let message = Array("GET /a\\x0d 200".utf8)
        let method = Array("GET".utf8)
        let path = Array("/a\"\r".utf8)
        let requestID = Array("ab-0-1".utf8)
        var writer = JSONWriter()
        message.withUnsafeBytes { message in
            method.withUnsafeBytes { method in
                path.withUnsafeBytes { path in
                    requestID.withUnsafeBytes { requestID in
                        AccessLogEntry(
                            epochNanoseconds: 1_764_172_800_042_000_000, rule: "access", message: message,
                            method: method, path: path, status: 200, durationNanoseconds: 1_234_567,
                            upstreamNanoseconds: nil, requestID: requestID, clientIP: "127.0.0.1"
                        ).writeJSON(to: &writer)
                    }
                }
            }
        }
        #expect(Self.text(writer.bytes) == #"{"time":"2025-11-26T16:00:00.042Z","rule":"access","message":"GET /a\\x0d 200","method":"GET","path":"/a\"\r","status":200,"duration_ms":1.234,"upstream_ms":null,"request_id":"ab-0-1","client_ip":"127.0.0.1"}"#)
    }

    @Test func rulesDocumentDescribesTheSetInUse() throws {
        let outcome = RuleLoader().load(
            text: """
                rules:
                  - name: not-found
                    when: { status: 404 }
                    respond: { status: 404, body: "gone" }
                  - name: profile
                    record: { key: "{{ request.method }} {{ request.path }}", history: 5 }
                    log: '{{ request.path }}'
                """, path: "site.yaml")
        let table = try #require(outcome.table)
        let status = RuntimeStatus()
        #expect(status.installed(table, path: "rules", warnings: [], at: 1_764_172_800_000_000_000, isReload: false) == 1)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(status.rulesJSON())) as? [String: Any])
        #expect(json["phase"] as? String == "starting")
        #expect(json["generation"] as? Int == 1)
        #expect(json["sha256"] as? String == table.ruleSet.digest)
        #expect((json["sha256"] as? String)?.count == 64)
        #expect(json["files"] as? [String] == ["site.yaml"])
        #expect(json["loaded_at"] as? String == "2025-11-26T16:00:00.000Z")
        #expect(json["last_reload"] is NSNull)
        let rules = try #require(json["rules"] as? [[String: Any]])
        #expect(rules.map { $0["name"] as? String } == ["not-found", "profile"])
        #expect(rules.map { $0["phase"] as? String } == ["response", "request"])
        #expect(rules.map { $0["actions"] as? [String] } == [["respond"], ["record", "log"]])
        #expect(rules.map { $0["location"] as? String } == ["site.yaml:2:5", "site.yaml:5:5"])
        let record = try #require(rules[1]["record"] as? [String: Any])
        #expect(record["key"] as? String == "{{ request.method }} {{ request.path }}")
        #expect(record["history"] as? Int == 5)
        #expect(record["max_keys"] as? Int == 1000)

        // A failed reload keeps generation 1 and shows why, with file:line:col.
        let broken = RuleLoader().load(text: "rules:\n  - name: x\n    when: { stauts: 404 }\n    log: x\n", path: "site.yaml")
        status.reloadFailed(broken.diagnostics, at: 1_764_172_801_000_000_000)
        let failed = try #require(try JSONSerialization.jsonObject(with: Data(status.rulesJSON())) as? [String: Any])
        #expect(failed["generation"] as? Int == 1)
        let reload = try #require(failed["last_reload"] as? [String: Any])
        #expect(reload["result"] as? String == "failure")
        let diagnostics = try #require(reload["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.first?["location"] as? String == "site.yaml:3:13")
        #expect(diagnostics.first?["code"] as? String == "A101")
        #expect(diagnostics.first?["rendered"] as? String
            == "site.yaml:3:13: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]")
    }

    @Test func processMessagesAsTextAndJSON() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer {
            close(descriptors[0])
            close(descriptors[1])
        }
        let text = Logger(label: "attache") { ProcessLogHandler(label: $0, format: .text, descriptor: descriptors[1]) }
        text.info("listening", metadata: ["port": "8080"])
        let json = Logger(label: "attache") { ProcessLogHandler(label: $0, format: .json, descriptor: descriptors[1]) }
        json.error("cannot \"listen\"", metadata: ["code": "A101"])
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptors[0], &buffer, buffer.count)
        let lines = String(decoding: buffer[0..<max(0, count)], as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "attache: listening port=8080")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: String])
        #expect(object["level"] == "error")
        #expect(object["message"] == "cannot \"listen\"")
        #expect(object["code"] == "A101")
        #expect(object["logger"] == "attache")
        #expect(object["time"]?.hasSuffix("Z") == true)
    }
}
