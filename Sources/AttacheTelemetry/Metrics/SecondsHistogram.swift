/// One Prometheus histogram series of durations in seconds: a count per bucket, the sum and the
/// count. Not thread-safe: `DurationHistograms` guards every series with one lock.
///
/// attache keeps these itself rather than in swift-prometheus' `Histogram`, whose `record`
/// takes a lock and walks every bucket through a copy-on-write check per observation: about 800
/// instructions per exchange for each of a `record` rule's two histograms. Here an observation
/// is a short scan and an increment, and the stats store records a whole batch under one lock.
final class SecondsHistogram {
    /// Upper bounds, ascending; an observation counts in the first bucket whose bound is at
    /// least the value, as Prometheus' `le` says.
    let bounds: [Double]
    /// Per bucket, not cumulative; the last entry counts values above every bound.
    private(set) var counts: [Int]
    private(set) var sum: Double = 0
    /// Every value recorded (read per scrape, so summed then rather than kept per value).
    var count: Int { counts.reduce(0, +) }

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = [Int](repeating: 0, count: bounds.count + 1)
    }

    func record(_ seconds: Double) {
        var index = 0
        while index < bounds.count && bounds[index] < seconds { index += 1 }
        counts[index] += 1
        sum += seconds
    }

    /// The `_bucket`, `_sum` and `_count` lines, in the text format swift-prometheus writes for
    /// its own histograms (cumulative buckets, `+Inf` last). `labels` is the rendered label list.
    func emit(name: String, labels: [UInt8], into buffer: inout [UInt8]) {
        let count = self.count
        var cumulative = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            appendLine(name, "_bucket", labels, le: bound.description, value: String(cumulative), into: &buffer)
        }
        appendLine(name, "_bucket", labels, le: "+Inf", value: String(count), into: &buffer)
        appendLine(name, "_sum", labels, le: nil, value: sum.description, into: &buffer)
        appendLine(name, "_count", labels, le: nil, value: String(count), into: &buffer)
    }

    private func appendLine(
        _ name: String, _ suffix: String, _ labels: [UInt8], le: String?, value: String, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: suffix.utf8)
        buffer.append(UInt8(ascii: "{"))
        buffer.append(contentsOf: labels)
        if let le {
            buffer.append(contentsOf: #",le=""#.utf8)
            buffer.append(contentsOf: le.utf8)
            buffer.append(UInt8(ascii: "\""))
        }
        buffer.append(contentsOf: "} ".utf8)
        buffer.append(contentsOf: value.utf8)
        buffer.append(UInt8(ascii: "\n"))
    }
}
