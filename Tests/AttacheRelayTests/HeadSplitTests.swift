import HTTPDifferential
import Testing

@testable import AttacheRelay

/// A head in one read is checked by the full parse; a head in pieces by the byte grammar first.
/// Both must give the same outcome (the same head, or the same error) for any bytes: these
/// tests mutate valid heads at every byte and compare (`fuzz-http` does the same at random).
@Suite struct HeadSplitTests {
    static let requests = [
        "GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\nAccept:  */*  \r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n",
        "POST http://example.org/x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n",
        "OPTIONS * HTTP/1.0\r\nTransfer-Encoding: chunked\r\nX:\t\tv\t\r\n\r\n",
        "\r\nPUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\nUpgrade: ws\r\n\r\n",
    ]
    static let responses = [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\nX-B: \u{80}\u{FF}\r\n\r\n",
        "HTTP/1.0 404\r\nTransfer-Encoding: chunked\r\nKeep-Alive: 5\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
    ]
    /// Bytes every part of the grammar treats specially.
    static let replacements: [UInt8] = Array(" \t\r\n:#*/,-0aAH\u{0}\u{7F}".utf8) + [0x80]

    /// Every byte replaced by each special byte, deleted, or doubled.
    static func mutations(of text: String) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        var result: [[UInt8]] = [bytes]
        for position in bytes.indices {
            for replacement in replacements where replacement != bytes[position] {
                var mutated = bytes
                mutated[position] = replacement
                result.append(mutated)
            }
            var deleted = bytes
            deleted.remove(at: position)
            result.append(deleted)
            var doubled = bytes
            doubled.insert(bytes[position], at: position)
            result.append(doubled)
        }
        return result
    }

    @Test(arguments: requests)
    func mutatedRequests(_ text: String) {
        for bytes in Self.mutations(of: text) { expectSameOutcome(bytes, requests: true) }
    }

    @Test(arguments: responses)
    func mutatedResponses(_ text: String) {
        for bytes in Self.mutations(of: text) { expectSameOutcome(bytes, requests: false) }
    }

    /// Around the limits: a line or head just under, at and over them, with an error before,
    /// at and after the byte where the limit is met.
    @Test func limitsMeetGrammarErrorsInByteOrder() {
        let limits = HeadLimits(maximumRequestLine: 24, maximumHeaderBytes: 48, maximumFields: 3)
        var checked = 0
        for targetLength in 8...22 {
            for valueLength in 0...24 {
                let request = "GET /" + String(repeating: "t", count: targetLength) + " HTTP/1.1\r\nHost: a\r\nX: "
                    + String(repeating: "v", count: valueLength) + "\r\n\r\n"
                for bytes in [Array(request.utf8)] + Self.errorsPlanted(in: request) {
                    expectSameOutcome(bytes, requests: true, limits: limits)
                    checked += 1
                }
                let response = "HTTP/1.1 200 " + String(repeating: "r", count: targetLength) + "\r\nX: "
                    + String(repeating: "v", count: valueLength) + "\r\n\r\n"
                for bytes in [Array(response.utf8)] + Self.errorsPlanted(in: response) {
                    expectSameOutcome(bytes, requests: false, limits: limits)
                    checked += 1
                }
            }
        }
        #expect(checked == 15 * 25 * 2 * 4)
    }

    func expectSameOutcome(_ bytes: [UInt8], requests: Bool, limits: HeadLimits = HeadLimits()) {
        let difference = SplitConsistency.firstHeadDifference(bytes, requests: requests, limits: limits)
        #expect(difference == nil, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
    }

    /// A NUL at a quarter, half and three quarters of the head.
    static func errorsPlanted(in text: String) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        return [1, 2, 3].map { quarters in
            var planted = bytes
            planted[bytes.count * quarters / 4] = 0
            return planted
        }
    }

    /// The request line and empty lines before it may arrive split anywhere, CR LF included.
    @Test func leadingEmptyLineSplitBetweenCRAndLF() {
        var parser = HeadParser()
        var head = HTTPHead()
        let message = Array("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        var outcomes: [HeadParser.Outcome] = []
        for length in 1...message.count {
            outcomes.append(message[0..<length].withUnsafeBytes { parser.parseRequest($0, into: &head) })
        }
        #expect(outcomes.dropLast() == Array(repeating: .incomplete, count: message.count - 1))
        #expect(outcomes.last == .complete)
        #expect(head.method == 4..<7)
    }
}
