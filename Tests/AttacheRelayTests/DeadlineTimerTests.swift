import NIOCore
import NIOEmbedded
import Testing

@testable import AttacheRelay

/// The timer on a loop whose clock the test moves: it fires once its deadline has passed, a
/// deadline moved later keeps the one pending task and re-arms it, and a closed timer arms
/// nothing again.
@Suite struct DeadlineTimerTests {
    final class Calls {
        var count = 0
    }

    /// A timer on a loop the test moves by hand, counting its callbacks.
    static func timer(on loop: EmbeddedEventLoop = EmbeddedEventLoop()) -> (EmbeddedEventLoop, DeadlineTimer, Calls) {
        let timer = DeadlineTimer(eventLoop: loop)
        let calls = Calls()
        timer.expired = { calls.count += 1 }
        return (loop, timer, calls)
    }

    @Test func firesAtTheDeadlineItWasMovedTo() {
        let (loop, timer, calls) = Self.timer()
        timer.set(after: .seconds(2))
        loop.advanceTime(by: .seconds(1))
        timer.set(after: .seconds(2))  // now due at 3 s
        loop.advanceTime(by: .seconds(1))
        #expect(calls.count == 0)  // the first task ran at 2 s, found the deadline later and re-armed
        loop.advanceTime(by: .milliseconds(999))
        #expect(calls.count == 0)
        loop.advanceTime(by: .milliseconds(1))
        #expect(calls.count == 1)
        loop.advanceTime(by: .seconds(10))
        #expect(calls.count == 1)
    }

    @Test func clearedDeadlineNeverFires() {
        let (loop, timer, calls) = Self.timer()
        timer.set(after: .seconds(1))
        timer.set(nil)
        loop.advanceTime(by: .seconds(5))
        #expect(calls.count == 0)
    }

    /// After `close` (its handler was removed) setting it again arms nothing: no callback, and
    /// no scheduled task keeping the timer alive (without `close`'s guard a task would hold it
    /// until its deadline; the callback alone cannot show that, `close` replaces it).
    @Test func closedTimerArmsNothing() {
        let loop = EmbeddedEventLoop()
        weak var released: DeadlineTimer?
        var calls: Calls?
        do {
            let (_, timer, counted) = Self.timer(on: loop)
            timer.set(after: .seconds(1))
            timer.close()
            timer.set(after: .seconds(60))
            released = timer
            calls = counted
        }
        #expect(released == nil)
        loop.advanceTime(by: .seconds(120))
        #expect(calls?.count == 0)
    }
}
