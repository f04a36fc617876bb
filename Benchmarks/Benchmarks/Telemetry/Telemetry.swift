import AttacheRules
import AttacheTelemetry
import Benchmark

/// What each finished exchange costs the telemetry on an event loop: recording it under a key
/// that exists (batches handed to the store every 1,024 exchanges, as a loop does), and writing
/// a JSON access-log line. Target (issue "Telemetry and admin"): no allocation per exchange once
/// the key exists.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    Benchmark(
        "record an exchange under a known key (store fed every 1024)",
        configuration: .init(scalingFactor: .kilo)
    ) { benchmark in
        let telemetry = Telemetry(accessLog: AccessLogWriter(descriptor: -1))
        let table = RuleLoader().load(text: "rules:\n  - name: profile\n    record: true\n").table!
        let plan = telemetry.install(table).plan
        let slot = plan.slot(forRule: 0)!
        let recorder = StatsRecorder(store: telemetry.stats)
        let keys = (0..<16).map { Array("/api/items/\($0)".utf8) }
        let method = Array("GET".utf8)
        var statuses = [200, 200, 200, 404]
        // Warm: every key admitted, every status seen, the history full.
        for round in 0..<64 {
            for key in keys { record(recorder, slot, key, method, statuses[round % 4], round) }
        }
        recorder.flush()
        benchmark.startMeasurement()
        var index = 0
        for _ in benchmark.scaledIterations {
            record(recorder, slot, keys[index & 15], method, statuses[index & 3], index)
            index &+= 1
        }
        recorder.flush()
        benchmark.stopMeasurement()
        statuses.removeAll()
    }

    Benchmark("JSON access-log line", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var writer = JSONWriter(capacity: 1024)
        let message = Array("GET /api/items/42 200 0.412ms".utf8)
        let method = Array("GET".utf8)
        let path = Array("/api/items/42".utf8)
        let requestID = Array("5f3a9c21-0-1f".utf8)
        message.withUnsafeBytes { message in
            method.withUnsafeBytes { method in
                path.withUnsafeBytes { path in requestID.withUnsafeBytes { requestID in
                    let entry = AccessLogEntry(
                        epochNanoseconds: 1_764_172_800_042_000_000, rule: "access", message: message, method: method,
                        path: path, status: 200, durationNanoseconds: 412_000, upstreamNanoseconds: 300_000,
                        requestID: requestID, clientIP: "127.0.0.1")
                    entry.writeJSON(to: &writer)
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        writer.reset()
                        entry.writeJSON(to: &writer)
                        blackHole(writer.bytes.count)
                    }
                    benchmark.stopMeasurement()
                }}
            }
        }
    }
}

@inline(__always)
private func record(_ recorder: StatsRecorder, _ slot: Int32, _ key: [UInt8], _ method: [UInt8], _ status: Int, _ step: Int) {
    let full = method.withUnsafeBytes { method in
        recorder.record(
            slot: slot, key: key, method: method, status: status, durationNanoseconds: Int64(200_000 + step % 1000),
            upstreamNanoseconds: 150_000, epochNanoseconds: 1_764_172_800_000_000_000 + Int64(step))
    }
    if full { recorder.flush() }
}
