import AttacheRules
import NIOCore
import Testing

@testable import AttacheRelay
@testable import AttacheTelemetry

/// A connection begins the next request with its finished exchange instead of allocating one:
/// it must then be indistinguishable from a new exchange begun with the same request, property by
/// property (so a property added to `Exchange` but forgotten in `begin` fails here).
@Suite struct ExchangeTests {
    func properties(_ exchange: Exchange) -> [String] {
        Mirror(reflecting: exchange).children.map { child in
            // Objects (the rule table) by identity, values by their description.
            let value = type(of: child.value) is AnyClass
                ? "\(ObjectIdentifier(child.value as AnyObject))" : String(describing: child.value)
            return "\(child.label ?? "?") = \(value)"
        }
    }

    @Test func reusedEqualsNew() throws {
        let table = try #require(RuleLoader().load(text: "rules:\n  - name: a\n    log: x\n").table)
        let other = try #require(RuleLoader().load(text: "rules:\n  - name: b\n    log: y\n").table)
        var parser = HeadParser()
        func head(_ text: String) -> (HTTPHead, ByteBuffer) {
            var head = HTTPHead()
            let buffer = ByteBuffer(string: text)
            _ = buffer.withUnsafeReadableBytes { parser.parseRequest($0, into: &head) }
            parser.reset()
            return (head, buffer)
        }
        let (firstHead, firstBytes) = head("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n")
        let (secondHead, secondBytes) = head("GET /b/../c HTTP/1.1\r\nHost: b\r\n\r\n")
        let start = NIODeadline.uptimeNanoseconds(42)

        let reused = Exchange(table: table, plan: .empty)
        reused.begin(
            head: firstHead, headBytes: firstBytes, table: table, plan: .empty, start: .now(), requestNumber: 1,
            normalizedPath: nil, pathRange: 5..<7, isHeadRequest: false, upgradeRequested: true, requestEnded: false)
        // Everything an exchange goes through.
        reused.pendingBody = ByteBuffer(string: "abc")
        reused.requestEnded = true
        reused.retried = true
        reused.sentContinue = true
        reused.dechunker = BodyFramer(.chunked)
        reused.status = 502
        reused.origin = .upstream
        reused.respondingRule = "a"
        reused.firstResponseByte = .now()
        _ = reused.takeHead()

        reused.begin(
            head: secondHead, headBytes: secondBytes, table: other, plan: .empty, start: start, requestNumber: 2,
            normalizedPath: Array("/c".utf8), pathRange: 4..<11, isHeadRequest: true, upgradeRequested: false,
            requestEnded: true)
        let fresh = Exchange(table: table, plan: .empty)
        fresh.begin(
            head: secondHead, headBytes: secondBytes, table: other, plan: .empty, start: start, requestNumber: 2,
            normalizedPath: Array("/c".utf8), pathRange: 4..<11, isHeadRequest: true, upgradeRequested: false,
            requestEnded: true)
        #expect(properties(reused) == properties(fresh))
        #expect(properties(fresh).count == 21)
    }
}

extension ExchangeTests {
    /// The record plan goes with the rule table: a reused exchange keeps both while the table is
    /// the same (without asking for the plan), and takes the new plan with a new table.
    @Test func planFollowsTheTable() throws {
        let table = try #require(RuleLoader().load(text: "rules:\n  - name: a\n    record: true\n").table)
        let reloaded = try #require(RuleLoader().load(text: "rules:\n  - name: a\n    record: true\n").table)
        let exchange = Exchange(table: table, plan: RecordPlan(slots: [3]))
        func begin(_ table: RuleTable, _ plan: RecordPlan, planAsked: inout Bool) {
            exchange.begin(
                head: HTTPHead(), headBytes: ByteBuffer(), table: table,
                plan: { planAsked = true; return plan }(), start: .now(), requestNumber: 1, normalizedPath: nil,
                pathRange: 0..<0, isHeadRequest: false, upgradeRequested: false, requestEnded: true)
        }
        var asked = false
        begin(table, RecordPlan(slots: [5]), planAsked: &asked)
        #expect(!asked)
        #expect(exchange.plan.slot(forRule: 0) == 3)
        begin(reloaded, RecordPlan(slots: [5]), planAsked: &asked)
        #expect(asked)
        #expect(exchange.table === reloaded)
        #expect(exchange.plan.slot(forRule: 0) == 5)
    }
}

@Suite struct RequestIDTests {
    /// Lower-case hex without leading zeros, past the point where a string of it stops being small.
    @Test(arguments: [
        (UInt64(0), "5f3a9c21-0-0"), (1, "5f3a9c21-0-1"), (0xF, "5f3a9c21-0-f"), (0x10, "5f3a9c21-0-10"),
        (0xFFFF, "5f3a9c21-0-ffff"), (0x1_0000, "5f3a9c21-0-10000"), (0xABCD_EF01_2345, "5f3a9c21-0-abcdef012345"),
        (UInt64.max, "5f3a9c21-0-ffffffffffffffff"),
    ])
    func writtenInHex(_ number: UInt64, _ expected: String) {
        #expect(RequestID(prefix: "5f3a9c21-0-", number: number).text == expected)
    }
}
