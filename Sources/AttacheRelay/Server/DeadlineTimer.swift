import NIOCore

/// A timeout that costs a store to move. One scheduled task stays pending at or before the
/// deadline; when it fires and finds the deadline moved later, it re-arms for the rest. So a
/// keep-alive connection that goes idle after every request, or an upstream response whose
/// timeout restarts on every read, does not cancel and schedule a task each time (measured:
/// with 256 connections the scheduler's heap work was the largest cost on the loop).
///
/// Used on its event loop only.
final class DeadlineTimer {
    private let eventLoop: EventLoop
    private var deadline: NIODeadline?
    private var pending: Scheduled<Void>?
    private var pendingAt = NIODeadline.distantFuture
    /// `close` was called: the timer never arms again.
    private var closed = false
    /// Runs on the loop once the deadline has passed. Settable, so the owner can make the timer
    /// when it is made itself and keep it in a `let` (reading an optional `var` to call it
    /// retained and released the timer every time), and give the callback once it can.
    var expired: () -> Void = {}

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Sets (or, with `nil`, clears) the deadline.
    func set(_ newDeadline: NIODeadline?) {
        guard !closed else { return }
        deadline = newDeadline
        guard let newDeadline else { return }  // a pending task will fire and find nothing to do
        if pending != nil && pendingAt <= newDeadline { return }  // it fires in time and re-arms
        pending?.cancel()
        arm(newDeadline)
    }

    /// Sets the deadline `delay` from now, by the loop's clock (which tests advance by hand).
    func set(after delay: TimeAmount) {
        set(eventLoop.now + delay)
    }

    /// Clears the deadline and drops the pending task (the connection is closing).
    func cancel() {
        deadline = nil
        pending?.cancel()
        pending = nil
    }

    /// Cancels for good and lets go of the callback (its owner is going away).
    func close() {
        cancel()
        closed = true
        expired = {}
    }

    private func arm(_ at: NIODeadline) {
        pendingAt = at
        pending = eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: at) { [self] in fire() }
    }

    private func fire() {
        pending = nil
        pendingAt = .distantFuture
        guard let deadline else { return }
        if deadline <= eventLoop.now {
            self.deadline = nil
            expired()
        } else {
            arm(deadline)
        }
    }
}
