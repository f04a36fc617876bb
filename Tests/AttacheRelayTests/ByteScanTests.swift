import Testing

@testable import AttacheRelay

/// The sixteen-bytes-at-a-time searches against one-byte-at-a-time definitions: every byte value
/// at every position of a vector and of the tail, and runs that end at every offset.
@Suite struct ByteScanTests {
    /// The word-wise fold (bit 0x20 set in every byte) against a byte-by-byte case-insensitive
    /// compare: every byte a checked field name or value may hold (VCHAR, obs-text, SP, HTAB) at
    /// every position of 15 literals 1 to 17 bytes long (each word size, whole and overlapping).
    /// Only letters may differ in case.
    @Test func foldedCompareMatchesByteWiseForCheckedBytes() {
        let literals: [StaticString] = [
            "a", "te", "tab", "host", "close", "expect", "chunked", "upgrade", "trailer", "keep-alive",
            "100-continue", "content-length", "x-forwarded-for", "proxy-connection", "transfer-encoding",
        ]
        let checked = (0...255).map(UInt8.init).filter(isFieldValueByte)
        for literal in literals {
            let text = Array(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            for position in text.indices {
                for value in checked {
                    var bytes = text
                    bytes[position] = value
                    let expected = bytes.withUnsafeBytes { raw in
                        text.withUnsafeBytes { equalsIgnoringCase(raw, $0) }
                    }
                    let folded = bytes.withUnsafeBytes { equalsIgnoringCase($0, literal) }
                    #expect(folded == expected, "\(literal): byte \(value) at \(position)")
                }
            }
        }
    }

    @Test func firstIndexAndPlainRunAtEveryOffset() {
        for length in 0...40 {
            for target in 0..<max(length, 1) {
                for special: UInt8 in [0x0A, 0x0D, 0x09, 0x00, 0x1F, 0x7F] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: length)
                    if target < length { bytes[target] = special }
                    bytes.withUnsafeBytes { raw in
                        for start in 0...length {
                            let expectedIndex = bytes[start...].firstIndex(of: special)
                            #expect(ByteScan.firstIndex(of: special, in: raw, from: start) == expectedIndex)
                            let expectedEnd = bytes[start...].firstIndex { $0 < 0x20 || $0 == 0x7F } ?? length
                            #expect(ByteScan.endOfPlainRun(in: raw, from: start) == expectedEnd)
                        }
                    }
                }
            }
        }
    }

    /// Several special bytes in one word, next to the values where borrows and high bits could
    /// mislead a word-wise answer: the exact first position, from every start.
    @Test func firstPositionAmongManyCandidates() {
        let values: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0x81, 0xFE, 0xFF]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<3000 {
            let length = next() % 40
            let bytes = (0..<length).map { _ in next() % 3 == 0 ? values[next() % values.count] : UInt8(ascii: "x") }
            let special = values[next() % values.count]
            bytes.withUnsafeBytes { raw in
                for start in 0...length {
                    #expect(ByteScan.firstIndex(of: special, in: raw, from: start) == bytes[start...].firstIndex(of: special))
                    let expectedEnd = bytes[start...].firstIndex { $0 < 0x20 || $0 == 0x7F } ?? length
                    #expect(ByteScan.endOfPlainRun(in: raw, from: start) == expectedEnd, "\(bytes) from \(start)")
                }
            }
        }
    }

    /// The name run ends at the first byte that is not a letter, digit or "-": every byte
    /// value at every position of a vector and of the tail, from several starts, against the
    /// byte-by-byte definition (the range edges: "/" "0" "9" ":" "@" "A" "Z" "[" "`" "a" "z" "{",
    /// "," "-" ".", and values whose high bit or 0x20 bit would fool a lane-wise range test).
    @Test func nameRunEndsAtTheFirstOtherByte() {
        func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        }
        runEndsAtTheFirstStop(filler: "Content-Type-X-Forwarded-9", stops: { !isNameByte($0) }) {
            ByteScan.endOfNameRun(in: $0, from: $1)
        }
    }

    /// The target run ends at the first byte outside 0x21–0x7E: every byte value at every
    /// position of a vector and of the tail, from several starts.
    @Test func targetRunEndsAtTheFirstNonVisibleByte() {
        runEndsAtTheFirstStop(filler: "/a/b?c=d&e=%20~!*'();:@+$,[]", stops: { $0 <= 0x20 || $0 >= 0x7F }) {
            ByteScan.endOfTargetRun(in: $0, from: $1)
        }
    }

    /// `scan` against `stops`, byte by byte: every byte value at every position of `filler`, from
    /// its start, from 1 and 5 (so the sixteen-byte steps fall differently around the position)
    /// and from the position itself.
    func runEndsAtTheFirstStop(
        filler: String, stops: (UInt8) -> Bool, scan: (UnsafeRawBufferPointer, Int) -> Int
    ) {
        let filler = Array(filler.utf8)
        for position in 0..<filler.count {
            for value in 0...255 {
                var bytes = filler
                bytes[position] = UInt8(value)
                bytes.withUnsafeBytes { raw in
                    for start in [0, 1, 5, position] where start <= position {
                        let expected = bytes[start...].firstIndex(where: stops) ?? bytes.count
                        #expect(scan(raw, start) == expected, "\(value) at \(position) from \(start)")
                    }
                }
            }
        }
    }

    /// Literals of every length around the word size, against each case and a one-byte change.
    @Test(arguments: ["te", "host", "upgrade", "trailer", "keep-alive", "content-length", "transfer-encoding"])
    func equalsIgnoringCaseWordByWord(_ name: String) {
        let literals: [String: StaticString] = [
            "te": "te", "host": "host", "upgrade": "upgrade", "trailer": "trailer", "keep-alive": "keep-alive",
            "content-length": "content-length", "transfer-encoding": "transfer-encoding",
        ]
        let literal = literals[name]!
        for variant in [name, name.uppercased(), String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })] {
            #expect(Array(variant.utf8).withUnsafeBytes { equalsIgnoringCase($0, literal) })
            for position in variant.utf8.indices.map({ variant.utf8.distance(from: variant.utf8.startIndex, to: $0) }) {
                var changed = Array(variant.utf8)
                changed[position] ^= 0x01
                #expect(!changed.withUnsafeBytes { equalsIgnoringCase($0, literal) }, "\(changed)")
            }
        }
        #expect(!Array((name + "x").utf8).withUnsafeBytes { equalsIgnoringCase($0, literal) })
    }
}
