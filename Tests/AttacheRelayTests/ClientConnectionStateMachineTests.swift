import NIOCore
import Testing

@testable import AttacheRelay

/// The client side's state machine with plain byte buffers: no channel, no sockets, no rules.
@Suite struct ClientConnectionStateMachineTests {
    /// `head`: what the machine hands over for a `startExchange` (`takeRequestHead`);
    /// `complete`: the request is complete with its head (no body, no `requestEnded` to come).
    static func describe(_ action: ClientConnectionStateMachine.Action, head: HTTPHead? = nil, complete: Bool = false) -> String {
        switch action {
        case .wait: return "wait"
        case .startExchange(let bytes):
            guard let head else { return "start (head not taken)" }
            let target = bytes.getString(at: bytes.readerIndex + Int(head.target.lowerBound), length: head.target.count)!
            return complete ? "start \(target), no body" : "start \(target)"
        case .requestBody(var bytes): return "body \(bytes.readString(length: bytes.readableBytes)!)"
        case .requestEnded: return "request ended"
        case .reject(let error): return "reject \(error.map { String($0.status) } ?? "408")"
        case .bodyFailed(let reason): return "body failed: \(reason)"
        case .exchangeFinished(let keepAlive): return "finished keepAlive=\(keepAlive)"
        case .tunnelData(var bytes): return "tunnel \(bytes.readString(length: bytes.readableBytes)!)"
        case .abort: return "abort"
        case .close: return "close"
        }
    }

    struct Driver {
        var machine = ClientConnectionStateMachine(limits: HeadLimits(), maximumBufferedBytes: 1024)

        mutating func run() -> [String] {
            var actions: [String] = []
            while true {
                let action = machine.nextAction(table: nil)
                if case .wait = action { break }
                let head: HTTPHead? = if case .startExchange = action { machine.takeRequestHead() } else { nil }
                actions.append(ClientConnectionStateMachineTests.describe(action, head: head, complete: machine.requestComplete))
            }
            return actions
        }

        mutating func feed(_ pieces: String...) -> [String] {
            var actions: [String] = []
            for piece in pieces {
                machine.received(ByteBuffer(string: piece))
                actions += run()
            }
            return actions
        }
    }

    @Test func requestWithoutBodyThenResponse() {
        var driver = Driver()
        #expect(driver.machine.timer == .head)
        #expect(driver.feed("GET /a HTTP/1.1\r\n", "Host: t\r\n\r\n") == ["start /a, no body"])
        #expect(driver.machine.state == .exchange && driver.machine.timer == nil)
        #expect(driver.machine.planResponse(.length(5)) == .init(chunked: false, dechunk: false, connection: .none))
        driver.machine.responseEnded()
        #expect(driver.run() == ["finished keepAlive=true"])
        #expect(driver.machine.state == .head && driver.machine.timer == .idle)
    }

    @Test func bodyArrivesAsSlices() {
        var driver = Driver()
        #expect(driver.feed("POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nab", "cd", "ef") == [
            "start /u", "body ab", "body cd", "body ef", "request ended",
        ])
    }

    @Test func chunkedBodyIsForwardedWithItsFraming() {
        var driver = Driver()
        #expect(driver.feed("POST /u HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "0\r\n\r\n") == [
            "start /u", "body 3\r\nabc\r\n", "body 0\r\n\r\n", "request ended",
        ])
    }

    @Test func pipelinedRequestWaitsForTheResponseBeforeIt() {
        var driver = Driver()
        #expect(driver.feed("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n") == [
            "start /1, no body",
        ])
        _ = driver.machine.planResponse(.none)
        driver.machine.responseEnded()
        #expect(driver.run() == ["finished keepAlive=true", "start /2, no body"])
    }

    @Test func malformedHeadIsRejected() {
        var driver = Driver()
        #expect(driver.feed("GET / HTTP/1.1\r\nHost : t\r\n\r\n") == ["reject 400"])
        #expect(driver.machine.state == .closing && !driver.machine.keepAlive)
        #expect(driver.feed("GET / HTTP/1.1\r\n") == [])
    }

    @Test func shortBodyOfALocallyAnsweredRequestIsDropped() {
        var driver = Driver()
        #expect(driver.feed("POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab") == ["start /u", "body ab"])
        driver.machine.respondedLocally()
        #expect(driver.feed("cd") == ["request ended", "finished keepAlive=true"])
    }

    @Test func longBodyOfALocallyAnsweredRequestEndsTheConnection() {
        var driver = Driver()
        _ = driver.feed("POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
        driver.machine.respondedLocally()
        #expect(!driver.machine.keepAlive)
        #expect(driver.machine.connectionField == .close)
    }

    @Test func http10ConnectionsCloseUnlessKeptAlive() {
        var closing = Driver()
        _ = closing.feed("GET / HTTP/1.0\r\n\r\n")
        #expect(closing.machine.planResponse(.length(1)).connection == .close)
        closing.machine.responseEnded()
        #expect(closing.run() == ["finished keepAlive=false"])
        var kept = Driver()
        _ = kept.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(kept.machine.planResponse(.length(1)).connection == .keepAlive)
    }

    @Test func responseFramingForEachClient() {
        var http11 = Driver()
        _ = http11.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(http11.machine.planResponse(.chunked) == .init(chunked: true, dechunk: false, connection: .none))
        var http10 = Driver()
        _ = http10.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(http10.machine.planResponse(.chunked) == .init(chunked: false, dechunk: true, connection: .close))
        var untilClose = Driver()
        _ = untilClose.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(untilClose.machine.planResponse(.untilClose).connection == .close)
        var early = Driver()
        _ = early.feed("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
        #expect(early.machine.planResponse(.length(2)).connection == .close)
    }

    @Test func upstreamFailureAfterTheResponseStartedAborts() {
        var driver = Driver()
        _ = driver.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(Self.describe(driver.machine.upstreamFailed()) == "wait")
        _ = driver.machine.planResponse(.length(10))
        #expect(Self.describe(driver.machine.upstreamFailed()) == "abort")
    }

    @Test func clientClosingWhileWaitingAbortsAndWhileIdleCloses() {
        var waiting = Driver()
        _ = waiting.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(Self.describe(waiting.machine.inputClosed()) == "abort")
        var idle = Driver()
        #expect(Self.describe(idle.machine.inputClosed()) == "close")
    }

    @Test func timers() {
        var driver = Driver()
        _ = driver.feed("GET / HTTP/1.1\r\nHo")
        #expect(driver.machine.timer == .head)
        #expect(Self.describe(driver.machine.timerFired(.head)) == "reject 408")
        var idle = Driver()
        _ = idle.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = idle.machine.planResponse(.none)
        idle.machine.responseEnded()
        _ = idle.run()
        #expect(idle.machine.timer == .idle)
        #expect(Self.describe(idle.machine.timerFired(.idle)) == "close")
    }

    @Test func drainClosesIdleConnectionsAndEndsKeepAlive() {
        var idle = Driver()
        #expect(Self.describe(idle.machine.drain()) == "close")
        var busy = Driver()
        _ = busy.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(Self.describe(busy.machine.drain()) == "wait")
        #expect(busy.machine.planResponse(.length(1)).connection == .close)
        busy.machine.responseEnded()
        #expect(busy.run() == ["finished keepAlive=false"])
    }

    @Test func tunnelPassesBytesThrough() {
        var driver = Driver()
        _ = driver.feed("GET /ws HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly")
        driver.machine.startTunnel()
        #expect(driver.run() == ["tunnel early"])
        #expect(driver.feed("more") == ["tunnel more"])
    }

    @Test func malformedChunkedBodyFailsThenCloses() {
        var driver = Driver()
        #expect(driver.feed("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == [
            "start /", "body failed: invalid chunk size",
        ])
        driver.machine.respondedLocally()
        #expect(driver.run() == ["finished keepAlive=false"])
    }

    @Test func tooMuchBufferedInputPausesReads() {
        var driver = Driver()
        _ = driver.feed("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = driver.feed(String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: 50))
        #expect(driver.machine.shouldPauseReads)
    }
}
