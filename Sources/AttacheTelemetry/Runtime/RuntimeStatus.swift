import AttacheRules
import NIOConcurrencyHelpers

/// What the admin port reports about the process itself: whether it serves (for `/readyz`), the
/// rule set in use and the last reload attempt (for `/rules`).
public final class RuntimeStatus: Sendable {
    public enum Phase: String, Sendable {
        /// Rules loaded, not listening yet.
        case starting
        /// Listening with rules loaded: ready.
        case serving
        /// SIGTERM received: finishing what is in flight; not ready.
        case draining
    }

    /// The rule set in use.
    public struct LoadedRules: Sendable {
        public var path: String
        public var generation: Int
        public var digest: String
        public var files: [String]
        public var bodyFiles: [String]
        public var epochNanoseconds: Int64
        public var rules: [Rule]
        /// Warnings the set loaded with.
        public var warnings: [Diagnostic]
    }

    /// A reload that was tried (successful or not).
    public struct ReloadAttempt: Sendable {
        public var epochNanoseconds: Int64
        public var succeeded: Bool
        /// Why it failed (errors with file:line:col), or its warnings.
        public var diagnostics: [Diagnostic]
    }

    private struct State: Sendable {
        var phase = Phase.starting
        var rules: LoadedRules?
        var lastReload: ReloadAttempt?
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public var phase: Phase { state.withLockedValue { $0.phase } }

    public func setPhase(_ phase: Phase) {
        state.withLockedValue { $0.phase = phase }
    }

    /// Ready means listening with rules loaded, and not draining.
    public var isReady: Bool { state.withLockedValue { $0.phase == .serving && $0.rules != nil } }

    public var rules: LoadedRules? { state.withLockedValue { $0.rules } }
    public var lastReload: ReloadAttempt? { state.withLockedValue { $0.lastReload } }

    /// Records a newly installed rule set and returns its generation (1 for the first).
    func installed(_ table: RuleTable, path: String, warnings: [Diagnostic], at time: Int64, isReload: Bool) -> Int {
        state.withLockedValue { state in
            let generation = (state.rules?.generation ?? 0) + 1
            let ruleSet = table.ruleSet
            state.rules = LoadedRules(
                path: path, generation: generation, digest: ruleSet.digest, files: ruleSet.files,
                bodyFiles: ruleSet.bodyFiles, epochNanoseconds: time, rules: ruleSet.rules, warnings: warnings)
            if isReload { state.lastReload = ReloadAttempt(epochNanoseconds: time, succeeded: true, diagnostics: warnings) }
            return generation
        }
    }

    func reloadUnchanged(at time: Int64) {
        state.withLockedValue {
            $0.lastReload = ReloadAttempt(epochNanoseconds: time, succeeded: true, diagnostics: $0.rules?.warnings ?? [])
        }
    }

    func reloadFailed(_ diagnostics: [Diagnostic], at time: Int64) {
        state.withLockedValue {
            $0.lastReload = ReloadAttempt(epochNanoseconds: time, succeeded: false, diagnostics: diagnostics)
        }
    }
}
