/// Brings a request path into the one form rules are matched against (RFC 3986 §6.2.2):
/// percent-encoded unreserved characters are decoded (`%7Euser` → `~user`), other escapes get
/// upper-case hex (`%2f` → `%2F`, still not a segment separator), and `.` / `..` segments are
/// resolved (§5.2.4). Repeated slashes are kept: `/a//b` is not `/a/b` to most services.
///
/// Without this, `/%6Frders/1` or `/api/../orders/1` would slip past a rule on `/orders/**`
/// while the service behind still serves `/orders/1`.
public enum PathNormalizer {
    public enum Outcome: Equatable, Sendable {
        /// The path is already normal; use it as it is.
        case unchanged
        /// The normal form was written to `output`.
        case normalized
        /// A `%` not followed by two hex digits.
        case invalidPercentEncoding
    }

    /// Normalizes `path` (no query string). Writes to `output` (cleared first) only when the
    /// outcome is `.normalized`, so the common case costs one scan and no copy.
    public static func normalize(_ path: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Outcome {
        var needsWork = false
        var previous: UInt8 = 0
        for byte in path {
            if byte == UInt8(ascii: "%") || (byte == UInt8(ascii: ".") && previous == UInt8(ascii: "/")) {
                needsWork = true
                break
            }
            previous = byte
        }
        guard needsWork else { return .unchanged }

        output.removeAllKeepingCapacity()
        var index = 0
        let count = path.count
        while index < count {
            let byte = path[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < count, let high = hexValue(path[index + 1]), let low = hexValue(path[index + 2])
                else { return .invalidPercentEncoding }
                let decoded = high << 4 | low
                if Escaping.isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    output.append(UInt8(ascii: "%"))
                    output.append(upperHex(high))
                    output.append(upperHex(low))
                }
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        removeDotSegments(&output)
        if output.count == path.count, output.elementsEqual(path) { return .unchanged }
        return .normalized
    }

    /// Convenience for cold paths (`explain`, tests); `nil` for invalid percent-encoding.
    public static func normalize(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        var output: [UInt8] = []
        switch bytes.withUnsafeBytes({ normalize($0, into: &output) }) {
        case .unchanged: return path
        case .normalized: return String(decoding: output, as: UTF8.self)
        case .invalidPercentEncoding: return nil
        }
    }

    /// RFC 3986 §5.2.4 on a path that starts with `/` (other forms are left alone).
    static func removeDotSegments(_ path: inout [UInt8]) {
        guard path.first == UInt8(ascii: "/") else { return }
        // Segment boundaries are rebuilt into `result`; `starts` remembers where each kept
        // segment's slash is, so `..` can drop back to it.
        var result: [UInt8] = []
        result.reserveCapacity(path.count)
        var starts: [Int] = []
        var index = 0
        let count = path.count
        while index < count {
            // path[index] is a "/"; the segment runs to the next "/" or the end.
            var end = index + 1
            while end < count, path[end] != UInt8(ascii: "/") { end += 1 }
            let length = end - index - 1
            let isLast = end == count
            if length == 1, path[index + 1] == UInt8(ascii: ".") {
                if isLast { result.append(UInt8(ascii: "/")) }
            } else if length == 2, path[index + 1] == UInt8(ascii: "."), path[index + 2] == UInt8(ascii: ".") {
                if let last = starts.popLast() { result.removeSubrange(last...) }
                if isLast { result.append(UInt8(ascii: "/")) }
            } else {
                starts.append(result.count)
                result.append(contentsOf: path[index..<end])
            }
            index = end
        }
        if result.isEmpty { result.append(UInt8(ascii: "/")) }
        path = result
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    @inline(__always)
    private static func upperHex(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
