#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AttacheRelay
import AttacheRules
import Dispatch
import Logging
import NIOCore

/// `attache run` (the default): the relay in front of one service.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Relay HTTP traffic to the service and apply the rules (the default command).",
        discussion: """
            PORT and TARGET_PORT from the environment are the defaults for the listening and \
            upstream ports. SIGTERM or SIGINT drains: no new connections, exchanges in flight \
            finish (within --drain-timeout) with Connection: close, then attache exits 0.
            """
    )

    @Option(help: "Rules file or directory.")
    var rules: String = "rules"

    @Option(help: "Where clients connect: HOST:PORT (default 0.0.0.0:$PORT, else 0.0.0.0:8080).")
    var listen: String?

    @Option(help: "The service: HOST:PORT (default 127.0.0.1:$TARGET_PORT, else 127.0.0.1:8087).")
    var upstream: String?

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

    @Option(help: "Seconds exchanges in flight may take after SIGTERM.")
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
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
        for (name, value) in [("--max-request-line", maxRequestLine), ("--max-header-bytes", maxHeaderBytes)]
        where !(256...(1 << 20)).contains(value) {
            throw ValidationError("\(name) must be between 256 and 1048576")
        }
        if !(1...10_000).contains(maxHeaderFields) { throw ValidationError("--max-header-fields must be between 1 and 10000") }
    }

    func run() throws {
        let environment = ProcessEnvironment()
        let listenAddress = try Address.parse(
            listen ?? "0.0.0.0:\(environment["PORT"] ?? "8080")", option: "--listen", defaultHost: "0.0.0.0")
        let upstreamAddress = try Address.parse(
            upstream ?? "127.0.0.1:\(environment["TARGET_PORT"] ?? "8087")", option: "--upstream",
            defaultHost: "127.0.0.1")

        let outcome = RuleLoader().load(path: rules)
        for diagnostic in outcome.diagnostics { printError(diagnostic.renderedWithNotes) }
        guard let table = outcome.table else {
            printError("attache: the rules in '\(rules)' have errors; not starting (check them with: attache lint \(rules))")
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

        let server: RelayServer
        let bound: SocketAddress
        do {
            server = try RelayServer(configuration: configuration, table: table)
        } catch {
            printError("attache: cannot use the upstream \(upstreamAddress.text): \(error)")
            throw ExitCode(1)
        }
        do {
            bound = try server.start()
        } catch {
            printError("attache: cannot listen on \(listenAddress.text): \(Self.describe(error))")
            server.shutdown()
            throw ExitCode(1)
        }
        printError(
            "attache: listening on \(bound.ipAddress ?? listenAddress.host):\(bound.port ?? listenAddress.port), "
                + "relaying to \(upstreamAddress.text) with \(table.rules.count) rules from \(rules)")

        let stop = DispatchSemaphore(value: 0)
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            return source
        }
        stop.wait()
        printError("attache: draining (up to \(Int(drainTimeout)) s)")
        server.drain(timeout: configuration.drainTimeout)
        server.shutdown()
        for source in signals { source.cancel() }
        printError("attache: stopped")
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
