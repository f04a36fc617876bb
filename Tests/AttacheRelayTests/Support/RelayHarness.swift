#if canImport(Glibc)
import Glibc
#endif
import AttacheRelay
import AttacheRules
import AttacheTelemetry
import Foundation
import NIOCore

/// attache started for real in front of a `TestUpstream`, on 127.0.0.1 with a free port.
final class RelayHarness {
    let upstream: TestUpstream
    let server: RelayServer
    let port: Int
    /// The access log goes into this pipe, so tests can read the lines.
    private let logPipe: (read: Int32, write: Int32)

    /// `rules` is the text of one rules file, or with `rulesPath` a file or directory on disk
    /// (relative to the repository).
    init(
        rules: String = "rules: []\n", rulesPath: String? = nil, logFormat: LogFormat = .text,
        configure: (inout RelayConfiguration) -> Void = { _ in }
    ) throws {
        upstream = try TestUpstream()
        let outcome = rulesPath.map { RuleLoader().load(path: RelayHarness.repository + "/" + $0) }
            ?? RuleLoader().load(text: rules)
        guard let table = outcome.table else {
            throw HarnessError.rules(outcome.diagnostics.map(\.description).joined(separator: "\n"))
        }
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw HarnessError.rules("pipe") }
        _ = fcntl(descriptors[0], F_SETFL, O_NONBLOCK)
        logPipe = (descriptors[0], descriptors[1])
        var configuration = RelayConfiguration(
            listenHost: "127.0.0.1", listenPort: 0, upstreamHost: "127.0.0.1", upstreamPort: upstream.port, threads: 2)
        configure(&configuration)
        server = try RelayServer(
            configuration: configuration, table: table,
            telemetry: Telemetry(accessLog: AccessLogWriter(descriptor: logPipe.write), logFormat: logFormat))
        port = try server.start().port!
    }

    /// The repository's root (samples and rules are loaded from it).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func client() throws -> RawClient {
        try RawClient(port: port)
    }

    /// Sends one request on a new connection and reads the response.
    func request(_ text: String, headRequest: Bool = false) throws -> HTTPTestResponse {
        let client = try client()
        try client.send(text)
        return try client.readResponse(headRequest: headRequest)
    }

    /// Access-log lines written so far (waits for the periodic flush).
    func logLines(expecting count: Int, timeout: Double = 3) -> [String] {
        var text = ""
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(logPipe.read, $0.baseAddress, $0.count) }
            if read > 0 { text += String(decoding: buffer[0..<read], as: UTF8.self) }
            if text.split(separator: "\n").count >= count { break }
            usleep(20_000)
        }
        return text.split(separator: "\n").map(String.init)
    }

    func shutdown() {
        server.drain(timeout: .seconds(1))
        server.shutdown()
        upstream.shutdown()
        close(logPipe.read)
        close(logPipe.write)
    }

    deinit {}
}

enum HarnessError: Error {
    case rules(String)
}

/// Waits until `condition` holds or `timeout` passes; returns whether it held.
func eventually(timeout: Double = 3, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
