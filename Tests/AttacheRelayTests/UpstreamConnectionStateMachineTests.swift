import NIOCore
import Testing

@testable import AttacheRelay

/// The upstream side's state machine with plain byte buffers: no channel, no sockets.
@Suite struct UpstreamConnectionStateMachineTests {
    /// A readable summary of an action, for exact comparisons.
    /// `head`: the machine's parsed head, which `interimResponse` and `response` announce.
    static func describe(_ action: UpstreamConnectionStateMachine.Action, head: HTTPHead = HTTPHead()) -> String {
        switch action {
        case .wait: return "wait"
        case .interimResponse: return "interim \(head.status)"
        case .response(_, let framing): return "response \(head.status) \(framing)"
        case .body(var bytes): return "body \(bytes.readString(length: bytes.readableBytes)!)"
        case .responseEnded(let reusable): return "end reusable=\(reusable)"
        case .discarded(let reusable): return "discarded reusable=\(reusable)"
        case .fail(let failure): return "fail \(failure)"
        case .close: return "close"
        case .tunnelData(var bytes): return "tunnel \(bytes.readString(length: bytes.readableBytes)!)"
        case .tunnelInputClosed: return "tunnel closed"
        }
    }

    struct Driver {
        var machine = UpstreamConnectionStateMachine(limits: HeadLimits())

        /// Feeds `pieces` one after the other; returns every action until `.wait` after each.
        mutating func feed(_ pieces: [String]) -> [String] {
            var actions: [String] = []
            for piece in pieces {
                machine.received(ByteBuffer(string: piece))
                while true {
                    let action = machine.nextAction()
                    if case .wait = action { break }
                    actions.append(UpstreamConnectionStateMachineTests.describe(action, head: machine.head))
                }
            }
            return actions
        }

        mutating func start(head: Bool = false) {
            machine.begin(requestWasHead: head)
            machine.requestComplete()
        }
    }

    @Test func contentLengthResponseInOnePiece() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"]) == [
            "response 200 length(5)", "body hello", "end reusable=true",
        ])
        #expect(driver.machine.exchanges == 1)
    }

    @Test func headAndBodyArriveByteByByte() {
        var driver = Driver()
        driver.start()
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        let actions = driver.feed(text.map { String($0) })
        #expect(actions == ["response 200 length(3)", "body a", "body b", "body c", "end reusable=true"])
    }

    @Test func interimThenFinal() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"]) == [
            "interim 103", "response 204 none", "end reusable=true",
        ])
    }

    @Test func chunkedAcrossPieces() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "lo\r\n0\r\n\r\n"]) == [
            "response 200 chunked", "body 5\r\nhel", "body lo\r\n0\r\n\r\n", "end reusable=true",
        ])
    }

    @Test func headResponseHasNoBody() {
        var driver = Driver()
        driver.start(head: true)
        #expect(driver.feed(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"]) == ["response 200 none", "end reusable=true"])
    }

    @Test func closeDelimitedBodyEndsAtClose() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.0 200 OK\r\n\r\nuntil"]) == ["response 200 untilClose", "body until"])
        #expect(Self.describe(driver.machine.inputClosed()) == "end reusable=false")
    }

    @Test func closeMidBodyFails() {
        var driver = Driver()
        driver.start()
        _ = driver.feed(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"])
        #expect(Self.describe(driver.machine.inputClosed()) == "fail failedMidBody(\"connection closed before the end of the body\")")
    }

    @Test func closeBeforeTheHeadFails() {
        var driver = Driver()
        driver.start()
        _ = driver.feed(["HTTP/1.1 2"])
        #expect(driver.machine.receivedResponseBytes)
        #expect(Self.describe(driver.machine.inputClosed()) == "fail closedBeforeResponse")
    }

    @Test func timeoutOnlyOnceTheRequestIsOut() {
        var machine = UpstreamConnectionStateMachine(limits: HeadLimits())
        machine.begin(requestWasHead: false)
        #expect(!machine.wantsTimer)
        machine.requestComplete()
        #expect(machine.wantsTimer)
        #expect(Self.describe(machine.timedOut()) == "fail timeout")
        #expect(!machine.wantsTimer)
    }

    @Test func malformedHeadFails() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 2000 OK\r\n\r\n"]) == ["fail malformedResponse(\"invalid status code\")"])
    }

    @Test func extraBytesAfterTheResponseMakeItUnreusable() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"]) == [
            "response 200 length(2)", "body ok", "end reusable=false",
        ])
    }

    @Test func bytesWhileIdleCloseTheConnection() {
        var driver = Driver()
        #expect(driver.feed(["HTTP/1.1 200 OK\r\n"]) == ["close"])
    }

    @Test func discardingAShortBodyKeepsTheConnection() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nno"]) == [
            "response 404 length(6)", "body no",
        ])
        #expect(Self.describe(driver.machine.discard()) == "wait")
        #expect(driver.feed(["pe", "!!"]) == ["discarded reusable=true"])
    }

    @Test func discardingALongBodyCloses() {
        var driver = Driver()
        driver.start()
        _ = driver.feed(["HTTP/1.1 404 Not Found\r\nContent-Length: 1000000\r\n\r\n"])
        #expect(Self.describe(driver.machine.discard()) == "close")
    }

    @Test func switchingProtocolsStartsATunnel() {
        var driver = Driver()
        driver.start()
        #expect(driver.feed(["HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nhi", "there"]) == [
            "response 101 none", "tunnel hi", "tunnel there",
        ])
        #expect(Self.describe(driver.machine.inputClosed()) == "tunnel closed")
    }

    @Test func reuseAfterAResponse() {
        var driver = Driver()
        driver.start()
        _ = driver.feed(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"])
        driver.start()
        #expect(driver.feed(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"]) == [
            "response 200 length(1)", "body b", "end reusable=true",
        ])
        #expect(driver.machine.exchanges == 2)
    }
}
