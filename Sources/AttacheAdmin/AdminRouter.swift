import AttacheRules
import AttacheTelemetry

/// The admin endpoints as a function from method and target to a response: no sockets, so
/// every route is tested directly. `AdminHandler` puts it on the network.
public struct AdminRouter: Sendable {
    public let telemetry: Telemetry

    public init(telemetry: Telemetry) {
        self.telemetry = telemetry
    }

    /// The paths served; anything else is 404.
    public static let paths = ["/", "/stats", "/metrics", "/rules", "/healthz", "/readyz"]

    /// Answers one request. May block briefly (statistics are gathered from the event loops):
    /// call it off the admin port's event loop.
    public func respond(method: String, target: String) -> AdminResponse {
        let (path, query) = Self.split(target)
        guard Self.paths.contains(path) else {
            return .text(404, "404 Not Found: the admin port serves \(Self.paths.joined(separator: " "))\n")
        }
        guard method == "GET" || method == "HEAD" else {
            return .text(405, "405 Method Not Allowed: use GET or HEAD\n", headers: ["allow": "GET, HEAD"])
        }
        switch path {
        case "/":
            return AdminResponse(status: 200, contentType: "text/html; charset=utf-8", body: DashboardPage.bytes)
        case "/stats":
            let rule = query.first { $0.name == "rule" }?.value
            if let rule, !telemetry.stats.recordsRule(named: rule) {
                var writer = JSONWriter()
                writer.beginObject()
                writer.key("error")
                writer.string("no rule named '\(rule)' records statistics")
                writer.endObject()
                return .json(404, writer.bytes)
            }
            return .json(200, telemetry.statsSnapshot(rule: rule).json())
        case "/metrics":
            return AdminResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: telemetry.metricsExposition())
        case "/rules":
            return .json(200, telemetry.status.rulesJSON())
        case "/healthz":
            return .text(200, "ok\n")
        default:  // /readyz
            let phase = telemetry.status.phase
            return telemetry.status.isReady ? .text(200, "ready\n") : .text(503, "not ready: \(phase.rawValue)\n")
        }
    }

    /// Splits `/path?a=b&c=d` into the path and its decoded query parameters.
    static func split(_ target: String) -> (path: String, query: [(name: String, value: String)]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, []) }
        let path = String(target[..<mark])
        let query = target[target.index(after: mark)...].split(separator: "&").map { part in
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(pieces[0]), pieces.count > 1 ? decode(pieces[1]) : "")
        }
        return (path, query)
    }

    /// Percent-decoding with `+` as a space (form encoding); bad escapes stay as written.
    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var index = 0
        while index < source.count {
            let byte = source[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < source.count,
                let value = UInt8(String(decoding: source[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
