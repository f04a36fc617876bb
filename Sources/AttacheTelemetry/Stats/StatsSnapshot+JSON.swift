extension StatsSnapshot {
    /// The `/stats` document: `{"time", "generation", "rules": {NAME: {…, "keys": {KEY: {…}}}}}`.
    /// Durations are milliseconds with three decimals.
    public func json() -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("time")
        writer.time(epochNanoseconds: epochNanoseconds)
        writer.key("generation")
        writer.int(generation)
        writer.key("rules")
        writer.beginObject()
        for rule in rules {
            writer.key(rule.name)
            rule.write(to: &writer)
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}

extension RuleStatsSnapshot {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("hits")
        writer.int(hits)
        writer.key("history")
        writer.int(history)
        writer.key("max_keys")
        writer.int(maximumKeys)
        writer.key("keys_tracked")
        writer.int(keys.count { $0.key != KeySnapshot.otherKey })
        writer.key("keys")
        writer.beginObject()
        for key in keys {
            writer.key(key.key)
            key.write(to: &writer)
        }
        writer.endObject()
        writer.endObject()
    }
}

extension KeySnapshot {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("hits")
        writer.int(hits)
        duration.writeFields(to: &writer)
        writer.key("upstream")
        if let upstream {
            writer.beginObject()
            writer.key("hits")
            writer.int(upstream.count)
            upstream.writeFields(to: &writer)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("statuses")
        writer.beginObject()
        for status in statuses {
            writer.key(String(status.status))
            writer.int(status.count)
        }
        writer.endObject()
        writer.key("history")
        writer.beginArray()
        for record in history {
            writer.beginObject()
            writer.key("time")
            writer.time(epochNanoseconds: record.epochNanoseconds)
            writer.key("method")
            writer.string(record.method)
            writer.key("status")
            writer.int(record.status)
            writer.key("duration_ms")
            writer.milliseconds(nanoseconds: record.durationNanoseconds)
            writer.key("upstream_ms")
            if let upstream = record.upstreamNanoseconds {
                writer.milliseconds(nanoseconds: upstream)
            } else {
                writer.null()
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}

extension TimingSnapshot {
    func writeFields(to writer: inout JSONWriter) {
        for (name, value) in [
            ("total_ms", totalNanoseconds), ("average_ms", averageNanoseconds), ("min_ms", minimumNanoseconds),
            ("max_ms", maximumNanoseconds), ("p50_ms", p50Nanoseconds), ("p90_ms", p90Nanoseconds),
            ("p99_ms", p99Nanoseconds), ("p999_ms", p999Nanoseconds),
        ] {
            writer.key(name)
            writer.milliseconds(nanoseconds: value)
        }
    }
}
