/// The header fields framing and forwarding care about, recognised by length and first byte
/// before a case-insensitive compare, so most names cost one switch.
enum KnownField: Equatable {
    case host
    case contentLength
    case transferEncoding
    case connection
    case keepAlive
    case proxyConnection
    case te
    case trailer
    case upgrade
    case expect
    case forwardedFor
    case forwardedProto
    case other

    @inline(__always)
    init(_ name: UnsafeRawBufferPointer) {
        guard let first = name.first else {
            self = .other
            return
        }
        switch (name.count, lowercased(first)) {
        case (4, UInt8(ascii: "h")): self = equalsIgnoringCase(name, "host") ? .host : .other
        case (14, UInt8(ascii: "c")): self = equalsIgnoringCase(name, "content-length") ? .contentLength : .other
        case (17, UInt8(ascii: "t")): self = equalsIgnoringCase(name, "transfer-encoding") ? .transferEncoding : .other
        case (10, UInt8(ascii: "c")): self = equalsIgnoringCase(name, "connection") ? .connection : .other
        case (10, UInt8(ascii: "k")): self = equalsIgnoringCase(name, "keep-alive") ? .keepAlive : .other
        case (16, UInt8(ascii: "p")): self = equalsIgnoringCase(name, "proxy-connection") ? .proxyConnection : .other
        case (2, UInt8(ascii: "t")): self = equalsIgnoringCase(name, "te") ? .te : .other
        case (7, UInt8(ascii: "t")): self = equalsIgnoringCase(name, "trailer") ? .trailer : .other
        case (7, UInt8(ascii: "u")): self = equalsIgnoringCase(name, "upgrade") ? .upgrade : .other
        case (6, UInt8(ascii: "e")): self = equalsIgnoringCase(name, "expect") ? .expect : .other
        case (15, UInt8(ascii: "x")): self = equalsIgnoringCase(name, "x-forwarded-for") ? .forwardedFor : .other
        case (17, UInt8(ascii: "x")): self = equalsIgnoringCase(name, "x-forwarded-proto") ? .forwardedProto : .other
        default: self = .other
        }
    }
}
