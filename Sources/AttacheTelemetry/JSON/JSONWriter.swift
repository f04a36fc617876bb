import AttacheRules

/// Writes JSON text straight into bytes, commas and escaping handled, without Foundation: the
/// access log builds its lines with it on an event loop (no allocation once `bytes` has grown),
/// and `/stats`, `/rules` and `--stats-interval` build their documents with it.
public struct JSONWriter {
    public var bytes: [UInt8]
    /// Nesting depth; bit `depth` of `firstAtDepth` is set while that level has no element yet.
    private var depth = 0
    private var firstAtDepth: UInt64 = 0
    private var afterKey = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Starts over, keeping the memory.
    public mutating func reset() {
        bytes.removeAllKeepingCapacity()
        depth = 0
        firstAtDepth = 0
        afterKey = false
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        push()
    }

    public mutating func endObject() {
        depth -= 1
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        push()
    }

    public mutating func endArray() {
        depth -= 1
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object key; the next call writes its value.
    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { Escaping.appendJSONString(UnsafeRawBufferPointer($0), to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string from bytes; invalid UTF-8 becomes U+FFFD.
    public mutating func string(bytes value: UnsafeRawBufferPointer) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Escaping.appendJSONString(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func string(bytes value: [UInt8]) {
        value.withUnsafeBytes { string(bytes: $0) }
    }

    public mutating func int<Number: BinaryInteger>(_ value: Number) {
        separate()
        ValueFormatting.appendDecimal(Int(value), to: &bytes)
    }

    /// Nanoseconds as milliseconds with three decimals (microsecond resolution): `12.345`.
    public mutating func milliseconds(nanoseconds: Int64) {
        separate()
        ValueFormatting.appendMilliseconds(nanoseconds: nanoseconds, to: &bytes)
    }

    /// A non-negative number with up to three decimals (rates).
    public mutating func decimal(_ value: Double) {
        separate()
        let thousandths = value.isFinite ? Int64(max(0, value) * 1000 + 0.5) : 0
        ValueFormatting.appendMilliseconds(nanoseconds: thousandths * 1000, to: &bytes)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// ISO 8601 UTC time with milliseconds, as a string.
    public mutating func time(epochNanoseconds: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        let seconds = epochNanoseconds >= 0 ? epochNanoseconds / 1_000_000_000 : (epochNanoseconds + 1) / 1_000_000_000 - 1
        let nanoseconds = Int32(epochNanoseconds - seconds * 1_000_000_000)
        ValueFormatting.appendISODate(epochSeconds: seconds, nanoseconds: nanoseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes the comma an element needs (none after a key or for the first element).
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        let bit: UInt64 = 1 << UInt64(min(depth, 63))
        if firstAtDepth & bit != 0 {
            firstAtDepth &= ~bit
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func push() {
        depth += 1
        firstAtDepth |= 1 << UInt64(min(depth, 63))
    }
}

extension SystemClock {
    /// Wall-clock time in nanoseconds since the epoch.
    public static func epochNanoseconds() -> Int64 {
        let now = now()
        return now.seconds * 1_000_000_000 + Int64(now.nanoseconds)
    }
}
