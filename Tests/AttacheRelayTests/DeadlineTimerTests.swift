import NIOCore
import NIOEmbedded
import Testing

@testable import AttacheRelay

/// The timer on a loop whose clock the test moves: it fires once its deadline has passed, a
/// deadline moved later keeps the one pending task and re-arms it, and a closed timer never
/// calls back again.
@Suite struct DeadlineTimerTests {
    @Test func firesAtTheDeadlineItWasMovedTo() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop)
        var fired = 0
        timer.expired = { fired += 1 }
        timer.set(after: .seconds(2))
        loop.advanceTime(by: .seconds(1))
        timer.set(after: .seconds(2))  // now due at 3 s
        loop.advanceTime(by: .seconds(1))
        #expect(fired == 0)  // the first task ran at 2 s, found the deadline later and re-armed
        loop.advanceTime(by: .milliseconds(999))
        #expect(fired == 0)
        loop.advanceTime(by: .milliseconds(1))
        #expect(fired == 1)
        loop.advanceTime(by: .seconds(10))
        #expect(fired == 1)
    }

    @Test func clearedDeadlineNeverFires() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop)
        var fired = 0
        timer.expired = { fired += 1 }
        timer.set(after: .seconds(1))
        timer.set(nil)
        loop.advanceTime(by: .seconds(5))
        #expect(fired == 0)
    }

    /// After `close` (its handler was removed) setting it again arms nothing.
    @Test func closedTimerNeverCallsBack() {
        let loop = EmbeddedEventLoop()
        let timer = DeadlineTimer(eventLoop: loop)
        var fired = 0
        timer.expired = { fired += 1 }
        timer.set(after: .seconds(1))
        timer.close()
        timer.set(after: .seconds(1))
        loop.advanceTime(by: .seconds(5))
        #expect(fired == 0)
    }
}
