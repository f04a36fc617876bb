import Testing

@testable import AttacheRelay

/// Which names the head parser treats specially: each known name in any case, and nothing else
/// (names of the same length, or one byte off, are other fields).
@Suite struct KnownFieldTests {
    static let known: [(String, KnownField)] = [
        ("te", .te), ("host", .host), ("expect", .expect), ("trailer", .trailer), ("upgrade", .upgrade),
        ("connection", .connection), ("keep-alive", .keepAlive), ("content-length", .contentLength),
        ("x-forwarded-for", .forwardedFor), ("proxy-connection", .proxyConnection),
        ("transfer-encoding", .transferEncoding), ("x-forwarded-proto", .forwardedProto),
    ]

    func field(_ name: String) -> KnownField {
        Array(name.utf8).withUnsafeBytes { KnownField($0) }
    }

    @Test(arguments: known)
    func knownNamesInAnyCase(name: String, expected: KnownField) {
        #expect(field(name) == expected)
        #expect(field(name.uppercased()) == expected)
        let mixed = String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
        #expect(field(mixed) == expected)
    }

    @Test(arguments: known)
    func nearMissesAreOtherFields(name: String, expected: KnownField) {
        // Every single-byte change keeps the length and must miss.
        for position in name.utf8.indices {
            var bytes = Array(name.utf8)
            let index = name.utf8.distance(from: name.utf8.startIndex, to: position)
            bytes[index] = bytes[index] == UInt8(ascii: "-") ? UInt8(ascii: "_") : bytes[index] ^ 0x01
            let changed = String(decoding: bytes, as: UTF8.self)
            #expect(field(changed) == .other, "\(changed)")
        }
        #expect(field(name + "s") == .other)
        #expect(field(String(name.dropLast())) == .other)
    }

    @Test func emptyAndCommonNames() {
        for name in ["", "Date", "Server", "Accept", "User-Agent", "Content-Type", "ETag", "Last-Modified"] {
            #expect(field(name) == .other, "\(name)")
        }
    }
}
