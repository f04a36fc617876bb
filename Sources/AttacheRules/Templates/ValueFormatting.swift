/// Formats the numeric and time values templates print, the same way for every context.
public enum ValueFormatting {
    /// Milliseconds with three decimals: `12.345`.
    public static func appendMilliseconds(nanoseconds: Int64, to output: inout [UInt8]) {
        let microseconds = UInt64(max(0, nanoseconds)) / 1000
        // Written backwards into a stack buffer and appended once: an append per character
        // checked the array's uniqueness and capacity each time.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var start = writeDigits(microseconds % 1000, endingAt: digits.count, in: digits, width: 3)
            start -= 1
            digits[start] = UInt8(ascii: ".")
            start = writeDigits(microseconds / 1000, endingAt: start, in: digits)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    public static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        appendPadded(value, width: 1, to: &output)
    }

    /// `value` in decimal with at least `width` digits (zeros in front), `-` before them when
    /// negative. As above; the magnitude is unsigned, so `Int.min` has one too.
    private static func appendPadded(_ value: Int, width: Int, to output: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var start = writeDigits(UInt64(value.magnitude), endingAt: digits.count, in: digits, width: width)
            if value < 0 {
                start -= 1
                digits[start] = UInt8(ascii: "-")
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Writes `value`'s decimal digits, at least `width` of them (up to 20), so that the last is
    /// just before `end`; returns where the first is.
    @inline(__always)
    private static func writeDigits(
        _ value: UInt64, endingAt end: Int, in digits: UnsafeMutableBufferPointer<UInt8>, width: Int = 1
    ) -> Int {
        var start = end
        var rest = value
        repeat {
            start -= 1
            digits[start] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0 || end - start < width
        return start
    }

    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 9110 §5.6.7 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func appendHTTPDate(epochSeconds: Int64, to output: inout [UInt8]) {
        let civil = CivilTime(epochSeconds: epochSeconds)
        let days = Int(floorDivide(epochSeconds, 86_400))
        output.append(contentsOf: weekdays[((days % 7) + 7) % 7].utf8)
        output.append(contentsOf: ", ".utf8)
        appendPadded(civil.day, width: 2, to: &output)
        output.append(UInt8(ascii: " "))
        output.append(contentsOf: months[civil.month - 1].utf8)
        output.append(UInt8(ascii: " "))
        appendPadded(civil.year, width: 4, to: &output)
        output.append(UInt8(ascii: " "))
        appendClock(civil, to: &output)
        output.append(contentsOf: " GMT".utf8)
    }

    /// ISO 8601 / RFC 3339 in UTC with milliseconds: `2026-11-26T16:02:31.123Z`.
    public static func appendISODate(epochSeconds: Int64, nanoseconds: Int32, to output: inout [UInt8]) {
        let civil = CivilTime(epochSeconds: epochSeconds)
        appendPadded(civil.year, width: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        appendPadded(civil.month, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        appendPadded(civil.day, width: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        appendClock(civil, to: &output)
        output.append(UInt8(ascii: "."))
        appendPadded(Int(nanoseconds) / 1_000_000, width: 3, to: &output)
        output.append(UInt8(ascii: "Z"))
    }

    private static func appendClock(_ civil: CivilTime, to output: inout [UInt8]) {
        appendPadded(civil.hour, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendPadded(civil.minute, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendPadded(civil.second, width: 2, to: &output)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    /// A UTC calendar time, from Howard Hinnant's days-to-civil algorithm.
    private struct CivilTime {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int

        init(epochSeconds: Int64) {
            let days = ValueFormatting.floorDivide(epochSeconds, 86_400)
            let secondsOfDay = Int(epochSeconds - days * 86_400)
            hour = secondsOfDay / 3600
            minute = secondsOfDay / 60 % 60
            second = secondsOfDay % 60
            let z = days + 719_468
            let era = ValueFormatting.floorDivide(z, 146_097)
            let dayOfEra = z - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let monthPrime = (5 * dayOfYear + 2) / 153
            day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
            month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
            year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        }
    }
}
