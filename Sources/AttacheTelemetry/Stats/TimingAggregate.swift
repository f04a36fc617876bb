import Histogram

/// Count, sum, extremes and an HdrHistogram of one kind of duration (total or upstream).
///
/// The histogram holds microseconds with two significant digits (1 % precision); it starts
/// covering 65 ms and grows as longer durations arrive, up to one hour (longer ones are counted
/// as one hour in the percentiles; the exact maximum is kept beside it). Counts are 32-bit, which
/// halves the memory per key; a bucket that would pass 2³² − 1 stops counting (the exact count,
/// sum and extremes beside it go on).
struct TimingAggregate {
    private(set) var count: UInt64 = 0
    private(set) var sumNanoseconds: Int64 = 0
    private(set) var minimumNanoseconds: Int64 = .max
    private(set) var maximumNanoseconds: Int64 = 0
    private var histogram: Histogram<UInt32>

    static let largestMicroseconds: UInt64 = 3_600_000_000

    init() {
        histogram = Histogram(highestTrackableValue: 65_536, numberOfSignificantValueDigits: .two)
        histogram.autoResize = true
    }

    mutating func add(nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        count += 1
        sumNanoseconds &+= value
        minimumNanoseconds = min(minimumNanoseconds, value)
        maximumNanoseconds = max(maximumNanoseconds, value)
        let microseconds = min(UInt64(value + 500) / 1000, Self.largestMicroseconds)
        // No bucket can be full while fewer than 2³² values were recorded in all: only then is
        // the bucket looked up first (a second index computation per value).
        if count <= UInt64(UInt32.max) || microseconds > histogram.highestTrackableValue
            || histogram.countForValue(microseconds) < UInt32.max
        {
            histogram.record(microseconds)
        }
    }

    var snapshot: TimingSnapshot {
        guard count > 0 else { return TimingSnapshot() }
        func percentile(_ value: Double) -> Int64 {
            // The histogram answers with the top of a 1 % bucket: keep it within what was seen.
            let nanoseconds = Int64(histogram.valueAtPercentile(value)) * 1000
            return min(max(nanoseconds, minimumNanoseconds), maximumNanoseconds)
        }
        return TimingSnapshot(
            count: count, totalNanoseconds: sumNanoseconds, minimumNanoseconds: minimumNanoseconds,
            maximumNanoseconds: maximumNanoseconds, p50Nanoseconds: percentile(50), p90Nanoseconds: percentile(90),
            p99Nanoseconds: percentile(99), p999Nanoseconds: percentile(99.9))
    }

    /// Bytes the histogram's counts take (for the memory figures in the docs).
    var histogramBytes: Int { histogram.estimatedFootprintInBytes }
}
