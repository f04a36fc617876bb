#if canImport(Glibc)
import Glibc
#endif
import AttacheRelay
import AttacheRules
import AttacheTelemetry
import Dispatch
import Logging
import NIOConcurrencyHelpers

/// Reloads the rules when their files change (polled by content, since a ConfigMap update swaps
/// a symlink and leaves every visible file's mtime alone) and at once on SIGHUP.
///
/// Runs on a thread of its own: reading and compiling never touch the event loops, and the new
/// table is swapped in whole (`RelayServer.replaceTable`); exchanges in flight finish on the
/// table they started with. A set with errors is rejected whole: the table in use stays, the
/// diagnostics are logged and shown on `/rules`, and the failure is counted.
final class RulesWatcher: @unchecked Sendable {
    private let path: String
    private let server: RelayServer
    private let logger: Logger
    /// Seconds between polls; `nil` means no polling (SIGHUP only).
    private let interval: Double?
    private let loader = RuleLoader()
    private let wake = DispatchSemaphore(value: 0)
    private let requests = NIOLockedValueBox(Requests())
    /// Only touched on the watcher's thread.
    private var debouncer: ReloadDebouncer
    private var bodyFiles: [String]

    private struct Requests {
        var reloadNow = false
        var stop = false
    }

    /// A burst of changes must settle this long before it is loaded.
    static let quietPeriod = 0.25

    init(path: String, table: RuleTable, server: RelayServer, logger: Logger, interval: Double?) {
        self.path = path
        self.server = server
        self.logger = logger
        self.interval = interval
        debouncer = ReloadDebouncer(tried: table.ruleSet.digest, quietPeriod: Self.quietPeriod)
        bodyFiles = table.ruleSet.bodyFiles
    }

    func start() {
        DispatchQueue(label: "attache.rules-watcher").async { [self] in run() }
    }

    /// SIGHUP: reload now, changed or not.
    func reloadNow() {
        requests.withLockedValue { $0.reloadNow = true }
        wake.signal()
    }

    func stop() {
        requests.withLockedValue { $0.stop = true }
        wake.signal()
    }

    private func run() {
        while true {
            let sleep = interval.map { debouncer.nextPoll(interval: $0) }
            if let sleep {
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(sleep * 1e9)))
            } else {
                wake.wait()
            }
            let request = requests.withLockedValue { requests -> Requests in
                defer { requests.reloadNow = false }
                return requests
            }
            if request.stop { return }
            if request.reloadNow {
                reload(reason: "SIGHUP")
                continue
            }
            guard interval != nil else { continue }
            let fingerprint = loader.fingerprint(path: path, bodyFiles: bodyFiles)
            if debouncer.observe(fingerprint, at: Self.now()) {
                reload(reason: "files changed", fingerprint: fingerprint)
            }
        }
    }

    /// Loads the rules and installs them if they are valid and still what is on disk.
    private func reload(reason: String, fingerprint: String? = nil) {
        let outcome = loader.load(path: path)
        guard let table = outcome.table else {
            for diagnostic in outcome.diagnostics { RunCommand.log(diagnostic, to: logger, format: server.telemetry.logFormat) }
            let errors = outcome.diagnostics.errorCount
            logger.error(
                "reload (\(reason)) rejected: \(errors) error\(errors == 1 ? "" : "s") in '\(path)'; still serving generation \(server.telemetry.status.rules?.generation ?? 0)")
            server.telemetry.reloadFailed(outcome.diagnostics)
            debouncer.didTry(fingerprint ?? loader.fingerprint(path: path, bodyFiles: bodyFiles))
            return
        }
        // The files may have changed while they were read (a swap in progress): install only a
        // set whose bytes are all still on disk, else wait for the next quiet period.
        let now = loader.fingerprint(path: path, bodyFiles: table.ruleSet.bodyFiles)
        guard now == table.ruleSet.digest else {
            logger.info("rules changed while they were being read; reloading once they settle")
            debouncer.restart()
            return
        }
        let telemetry = server.telemetry
        if let current = telemetry.status.rules, current.digest == table.ruleSet.digest {
            // The same bytes as the set in use (a SIGHUP, or files put back): nothing to swap.
            telemetry.reloadUnchanged()
            debouncer.didTry(table.ruleSet.digest)
            logger.info("rules unchanged (\(reason)): still generation \(current.generation), sha256 \(current.digest.prefix(12))")
            return
        }
        for diagnostic in outcome.diagnostics { RunCommand.log(diagnostic, to: logger, format: telemetry.logFormat) }
        let generation = server.replaceTable(table, warnings: outcome.diagnostics)
        bodyFiles = table.ruleSet.bodyFiles
        debouncer.didTry(table.ruleSet.digest)
        logger.info(
            "rules reloaded (\(reason)): generation \(generation), \(table.rules.count) rules from \(path), sha256 \(table.ruleSet.digest.prefix(12))")
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
