#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AttacheAdmin
import AttacheRelay
import AttacheRules
import AttacheTelemetry
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// `attache run` (the default): the relay in front of one service.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Relay HTTP traffic to the service and apply the rules (the default command).",
        discussion: """
            PORT and TARGET_PORT from the environment are the defaults for the listening and \
            upstream ports. The rules are reloaded when their contents change (checked every \
            --watch-interval, symlinks followed as a ConfigMap mount lays them out) and on SIGHUP; \
            a set with errors is rejected whole and the rules in use stay. The admin port (--admin) serves the dashboard, /stats, /metrics, \
            /rules, /healthz and /readyz. SIGTERM drains: /readyz answers 503 at once, new \
            connections are still accepted for --drain-delay, then exchanges in flight finish \
            (within --drain-timeout) with Connection: close, and attache exits 0. SIGINT drains \
            without the delay.
            """
    )

    @Option(help: "Rules file or directory.")
    var rules: String = "rules"

    @Option(help: "Where clients connect: HOST:PORT (default 0.0.0.0:$PORT, else 0.0.0.0:8080).")
    var listen: String?

    @Option(help: "The service: HOST:PORT (default 127.0.0.1:$TARGET_PORT, else 127.0.0.1:8087).")
    var upstream: String?

    @Option(help: "The admin port: HOST:PORT, or 'off'. Keep it on 127.0.0.1 unless something else must scrape it.")
    var admin: String = "127.0.0.1:9901"

    @Option(help: "Access log and messages: text or json (one object per line).")
    var logFormat: LogFormatOption = .text

    @Option(help: "Print the /stats document to standard output every SECONDS (off by default).")
    var statsInterval: Double?

    @Option(help: "Seconds between checks of the rules' contents for changes (SIGHUP reloads at once).")
    var watchInterval: Double = 1

    @Flag(help: "Do not watch the rules for changes; reload only on SIGHUP.")
    var noWatch = false

    @Option(help: "Event-loop threads (default: the number of cores).")
    var threads: Int?

    @Option(help: "Seconds for a request head to arrive (408 beyond).")
    var headTimeout: Double = 10

    @Option(help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout: Double = 60

    @Option(help: "Seconds to connect to the service (502 beyond).")
    var connectTimeout: Double = 5

    @Option(help: "Seconds to wait for the service's response head, and between body reads (504 beyond).")
    var responseTimeout: Double = 60

    @Option(help: "Seconds to keep accepting after SIGTERM while /readyz answers 503 (load balancers catch up).")
    var drainDelay: Double = 5

    @Option(help: "Seconds exchanges in flight may take after SIGTERM (and --drain-delay).")
    var drainTimeout: Double = 20

    @Option(help: "Largest request line in bytes (414 beyond).")
    var maxRequestLine: Int = 8 * 1024

    @Option(help: "Largest request head in bytes (431 beyond).")
    var maxHeaderBytes: Int = 64 * 1024

    @Option(help: "Most header fields in a request (431 beyond).")
    var maxHeaderFields: Int = 100

    func validate() throws {
        for (name, value) in [
            ("--head-timeout", headTimeout), ("--idle-timeout", idleTimeout), ("--connect-timeout", connectTimeout),
            ("--response-timeout", responseTimeout), ("--drain-timeout", drainTimeout),
        ] where !(value > 0 && value <= 86_400) {
            throw ValidationError("\(name) must be between 0 and 86400 seconds")
        }
        if !(0...3600).contains(drainDelay) { throw ValidationError("--drain-delay must be between 0 and 3600 seconds") }
        if !(watchInterval >= 0.05 && watchInterval <= 3600) {
            throw ValidationError("--watch-interval must be between 0.05 and 3600 seconds")
        }
        if let statsInterval, !(statsInterval >= 0.1 && statsInterval <= 86_400) {
            throw ValidationError("--stats-interval must be between 0.1 and 86400 seconds")
        }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
        for (name, value) in [("--max-request-line", maxRequestLine), ("--max-header-bytes", maxHeaderBytes)]
        where !(256...(1 << 20)).contains(value) {
            throw ValidationError("\(name) must be between 256 and 1048576")
        }
        if !(1...10_000).contains(maxHeaderFields) { throw ValidationError("--max-header-fields must be between 1 and 10000") }
    }

    func run() throws {
        let format = logFormat.format
        LoggingSystem.bootstrap { label in ProcessLogHandler(label: label, format: format) }
        let logger = Logger(label: "attache")
        // Before anything listens, so that no signal can arrive before its handler is in place.
        let signals = try SignalWaiter(stopping: [SIGTERM, SIGINT], reloading: SIGHUP)
        let environment = ProcessEnvironment()
        let listenAddress = try Address.parse(
            listen ?? "0.0.0.0:\(environment["PORT"] ?? "8080")", option: "--listen", defaultHost: "0.0.0.0")
        let upstreamAddress = try Address.parse(
            upstream ?? "127.0.0.1:\(environment["TARGET_PORT"] ?? "8087")", option: "--upstream",
            defaultHost: "127.0.0.1")
        let adminAddress = admin == "off" ? nil : try Address.parse(admin, option: "--admin", defaultHost: "127.0.0.1")
        if let adminAddress, adminAddress.port != 0, adminAddress.port == listenAddress.port {
            throw ValidationError("--admin must not use the relay's port \(listenAddress.port)")
        }

        let outcome = RuleLoader().load(path: rules)
        for diagnostic in outcome.diagnostics { Self.log(diagnostic, to: logger, format: format) }
        guard let table = outcome.table else {
            logger.error("the rules in '\(rules)' have errors; not starting (check them with: attache lint \(rules))")
            throw ExitCode(1)
        }

        let configuration = RelayConfiguration(
            listenHost: listenAddress.host, listenPort: listenAddress.port, upstreamHost: upstreamAddress.host,
            upstreamPort: upstreamAddress.port, threads: threads ?? System.coreCount,
            limits: HeadLimits(
                maximumRequestLine: maxRequestLine, maximumHeaderBytes: maxHeaderBytes,
                maximumFields: maxHeaderFields),
            headTimeout: .seconds(headTimeout), idleTimeout: .seconds(idleTimeout),
            connectTimeout: .seconds(connectTimeout), responseTimeout: .seconds(responseTimeout),
            drainTimeout: .seconds(drainTimeout))

        let telemetry = Telemetry(rulesPath: rules, logFormat: format)
        let server: RelayServer
        do {
            server = try RelayServer(
                configuration: configuration, table: table, warnings: outcome.diagnostics, telemetry: telemetry)
        } catch {
            logger.error("cannot use the upstream \(upstreamAddress.text): \(error)")
            throw ExitCode(1)
        }
        var adminServer: AdminServer?
        var adminText = "no admin port"
        if let adminAddress {
            let started = AdminServer(telemetry: telemetry)
            do {
                let bound = try started.start(host: adminAddress.host, port: adminAddress.port)
                adminServer = started
                adminText = "admin on \(bound.ipAddress ?? adminAddress.host):\(bound.port ?? adminAddress.port)"
            } catch {
                logger.error("cannot listen on \(adminAddress.text) (--admin): \(Self.describe(error))")
                started.shutdown()
                server.shutdown()
                throw ExitCode(1)
            }
        }
        let bound: SocketAddress
        do {
            bound = try server.start()
        } catch {
            logger.error("cannot listen on \(listenAddress.text): \(Self.describe(error))")
            adminServer?.shutdown()
            server.shutdown()
            throw ExitCode(1)
        }
        let listening = "\(bound.ipAddress ?? listenAddress.host):\(bound.port ?? listenAddress.port)"
        logger.info(
            "listening on \(listening), relaying to \(upstreamAddress.text) with \(table.rules.count) rules from \(rules); \(adminText)")

        let printer = statsInterval.map { StatsPrinter(telemetry: telemetry, interval: $0) }
        let watcher = RulesWatcher(
            path: rules, table: table, server: server, logger: logger, interval: noWatch ? nil : watchInterval)
        watcher.start()
        let received = signals.wait(onReload: { watcher.reloadNow() })
        telemetry.status.setPhase(.draining)
        let delay = received == SIGTERM ? drainDelay : 0
        if delay > 0 {
            logger.info("draining: /readyz answers 503; accepting for \(Self.seconds(delay)) more, then up to \(Self.seconds(drainTimeout)) for exchanges in flight")
            usleep(UInt32(delay * 1_000_000))
        } else {
            logger.info("draining (up to \(Self.seconds(drainTimeout)))")
        }
        watcher.stop()
        server.drain(timeout: configuration.drainTimeout)
        printer?.stop()
        server.shutdown()
        adminServer?.shutdown()
        logger.info("stopped")
    }

    /// `5 s`, `0.5 s`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    /// A startup diagnostic: the compiler-style line as text; the fields apart in JSON.
    static func log(_ diagnostic: Diagnostic, to logger: Logger, format: LogFormat) {
        let level: Logger.Level = diagnostic.severity == .error ? .error : .warning
        switch format {
        case .text:
            logger.log(level: level, "\(diagnostic.renderedWithNotes)")
        case .json:
            logger.log(
                level: level, "\(diagnostic.message)",
                metadata: [
                    "code": "\(diagnostic.code.rawValue)",
                    "location": "\(diagnostic.location?.description ?? "")",
                ])
        }
    }

    /// The system's words for an error ("Address already in use"), not NIO's call trace.
    static func describe(_ error: Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}

extension TimeAmount {
    static func seconds(_ value: Double) -> TimeAmount {
        .nanoseconds(Int64(value * 1_000_000_000))
    }
}

/// `HOST:PORT`, `:PORT` or `PORT` (IPv6 as `[::1]:8080`).
struct Address {
    var host: String
    var port: Int
    var text: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func parse(_ text: String, option: String, defaultHost: String) throws -> Address {
        var host = defaultHost
        var portText = text
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[text.index(after: close)...].dropFirst())
        } else if let colon = text.lastIndex(of: ":") {
            let name = String(text[..<colon])
            if !name.isEmpty { host = name }
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ValidationError("\(option) takes HOST:PORT with a port from 0 to 65535, not '\(text)'")
        }
        return Address(host: host, port: port)
    }
}

/// Environment variables, read once.
struct ProcessEnvironment {
    subscript(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}

/// `--log-format`.
enum LogFormatOption: String, ExpressibleByArgument, CaseIterable {
    case text
    case json

    var format: LogFormat { self == .text ? .text : .json }
}

/// `--stats-interval`: the /stats document as one line on standard output, every interval.
final class StatsPrinter {
    private let timer: DispatchSourceTimer

    init(telemetry: Telemetry, interval: Double) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "attache.stats-printer"))
        let nanoseconds = Int(interval * 1e9)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler {
            let line = telemetry.statsSnapshot().json() + [UInt8(ascii: "\n")]
            telemetry.accessLog.write(line, lines: 1)
        }
        timer.resume()
    }

    func stop() {
        timer.cancel()
    }
}
