/// Names one exchange in access logs and templates (`request.id`): the loop's prefix (random per
/// process, then the loop's index) and the loop's request counter, in hex. Kept as its two parts
/// and written out only when a log line or a template asks for it: as a string made for every
/// request it allocated once the counter outgrew a small string (65,536 requests).
struct RequestID: Equatable {
    /// `<random hex>-<loop index>-`, one per loop.
    var prefix: String
    var number: UInt64

    func write(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: prefix.utf8)
        var shift = max(0, (UInt64.bitWidth - number.leadingZeroBitCount - 1) / 4 * 4)
        while shift >= 0 {
            let digit = UInt8((number >> UInt64(shift)) & 0xF)
            bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
            shift -= 4
        }
    }

    var text: String {
        var bytes: [UInt8] = []
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
