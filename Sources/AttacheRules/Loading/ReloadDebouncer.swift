/// Decides when a watched rule set is reloaded, from the fingerprints a watcher polls
/// (`RuleLoader.fingerprint`): a change is loaded once it has stayed the same for `quietPeriod`
/// (a burst of writes, or a ConfigMap swap in progress, settles first), and a fingerprint that
/// was already tried (loaded or rejected) is not tried again until the files change.
public struct ReloadDebouncer: Sendable {
    /// The fingerprint of the files last loaded or rejected.
    public private(set) var tried: String
    /// A change seen but not yet quiet for long enough: its fingerprint and when it was first seen.
    public private(set) var pending: (fingerprint: String, since: Double)?
    public let quietPeriod: Double

    public init(tried: String, quietPeriod: Double) {
        self.tried = tried
        self.quietPeriod = quietPeriod
    }

    /// Takes a poll's fingerprint at `time` (seconds); returns `true` when the set should be
    /// loaded now.
    public mutating func observe(_ fingerprint: String, at time: Double) -> Bool {
        guard fingerprint != tried else {
            pending = nil
            return false
        }
        if let pending, pending.fingerprint == fingerprint {
            return time - pending.since >= quietPeriod
        }
        pending = (fingerprint, time)
        return quietPeriod <= 0
    }

    /// Records the outcome of a load attempt on files with this fingerprint.
    public mutating func didTry(_ fingerprint: String) {
        tried = fingerprint
        pending = nil
    }

    /// Forgets a pending change so the next poll starts its quiet period again (the files
    /// changed while they were being loaded).
    public mutating func restart() {
        pending = nil
    }

    /// How long the watcher should sleep before its next poll.
    public func nextPoll(interval: Double) -> Double {
        pending == nil ? interval : min(interval, quietPeriod)
    }
}
