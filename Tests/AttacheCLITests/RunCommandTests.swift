#if canImport(Glibc)
import Glibc
#endif
import AttacheTestSupport
import Foundation
import Testing

/// `attache run` as a process: startup errors, and the SIGTERM drain.
@Suite(.serialized)
struct RunCommandTests {
    /// A started process with its standard output and standard error collected.
    final class Running {
        let process = Process()
        let errorPipe = Pipe()
        let outputPipe = Pipe()
        let errorText = LockedText()
        let outputText = LockedText()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            // Tests run side by side: the admin port takes any free port unless a test chooses.
            process.arguments = arguments.first == "run" && !arguments.contains("--admin")
                ? arguments + ["--admin", "127.0.0.1:0"] : arguments
            process.currentDirectoryURL = URL(fileURLWithPath: CLITests.repository)
            process.standardOutput = outputPipe
            process.standardError = errorPipe
            let text = errorText
            errorPipe.fileHandleForReading.readabilityHandler = { handle in
                text.append(String(decoding: handle.availableData, as: UTF8.self))
            }
            let output = outputText
            outputPipe.fileHandleForReading.readabilityHandler = { handle in
                output.append(String(decoding: handle.availableData, as: UTF8.self))
            }
            try process.run()
        }

        /// The admin port from "…; admin on 127.0.0.1:PORT".
        func adminPort(timeout: Double = 10) -> Int? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let range = errorText.value.range(of: "admin on 127.0.0.1:") {
                    return Int(errorText.value[range.upperBound...].prefix { $0.isNumber })
                }
                if !process.isRunning { return nil }
                usleep(20_000)
            }
            return nil
        }

        /// Waits for a line of standard output that satisfies `match`.
        func outputLine(timeout: Double = 10, where match: (String) -> Bool) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let line = outputText.value.split(separator: "\n").map(String.init).first(where: match) { return line }
                usleep(20_000)
            }
            return nil
        }

        /// The port from "attache: listening on 127.0.0.1:PORT, …".
        func listeningPort(timeout: Double = 10) -> Int? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let text = errorText.value
                if let range = text.range(of: "listening on 127.0.0.1:") {
                    let digits = text[range.upperBound...].prefix { $0.isNumber }
                    return Int(digits)
                }
                if !process.isRunning { return nil }
                usleep(20_000)
            }
            return nil
        }

        func wait(timeout: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            guard !process.isRunning else {
                process.terminate()
                return nil
            }
            errorPipe.fileHandleForReading.readabilityHandler = nil
            outputPipe.fileHandleForReading.readabilityHandler = nil
            return process.terminationStatus
        }
    }

    final class LockedText: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ more: String) { lock.withLock { text += more } }
        var value: String { lock.withLock { text } }
    }

    @Test func brokenRulesStopStartupWithExitOne() throws {
        let path = NSTemporaryDirectory() + "attache-run-\(UUID().uuidString).yaml"
        try Data("rules:\n  - name: a\n    when: { stauts: 404 }\n    log: x\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let running = try Running(["run", "--rules", path, "--listen", "127.0.0.1:0"])
        #expect(running.wait(timeout: 10) == 1)
        #expect(running.errorText.value == """
            attache: \(path):3:13: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]
            attache: the rules in '\(path)' have errors; not starting (check them with: attache lint \(path))

            """)
    }

    @Test func portInUseIsOneClearLine() throws {
        // Hold a port with a listening socket.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) } }
        listen(holder, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let running = try Running(["run", "--rules", "rules", "--listen", "127.0.0.1:\(port)"])
        #expect(running.wait(timeout: 10) == 1)
        #expect(running.errorText.value.hasSuffix(
            "attache: cannot listen on 127.0.0.1:\(port): Address already in use\n"))
        #expect(!running.errorText.value.contains("Fatal error"))
    }

    @Test func sigtermDrainsRequestsInFlightAndExitsZero() throws {
        let upstream = try SlowUpstream()
        defer { upstream.stop() }
        let running = try Running([
            "run", "--rules", "rules", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.port)",
            "--drain-timeout", "5", "--drain-delay", "0",
        ])
        let port = try #require(running.listeningPort())
        let client = try CLISocket(port: port)
        try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(upstream.waitForRequest())
        kill(running.process.processIdentifier, SIGTERM)
        let response = client.readUntilClosed(timeout: 5)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.contains("\r\nConnection: close\r\n"))
        #expect(response.hasSuffix("\r\n\r\nslow"))
        #expect(running.wait(timeout: 10) == 0)
        #expect(running.errorText.value.hasSuffix("attache: draining (up to 5 s)\nattache: stopped\n"))
        // Nothing listens any more.
        #expect(throws: (any Error).self) { try CLISocket(port: port) }
    }

    @Test func readyzTurns503OnSigtermWhileStillServingThenExitZero() throws {
        let upstream = try SlowUpstream()
        defer { upstream.stop() }
        let running = try Running([
            "run", "--rules", "rules", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.port)",
            "--drain-delay", "1", "--drain-timeout", "5",
        ])
        let port = try #require(running.listeningPort())
        let adminPort = try #require(running.adminPort())
        #expect(CLISocket.get(port: adminPort, path: "/readyz")?.hasPrefix("HTTP/1.0 200 OK\r\n") == true)
        kill(running.process.processIdentifier, SIGTERM)
        var sawNotReady = false
        let deadline = Date().addingTimeInterval(0.8)
        while Date() < deadline, !sawNotReady {
            sawNotReady = CLISocket.get(port: adminPort, path: "/readyz")?.hasPrefix("HTTP/1.0 503 Service Unavailable\r\n") == true
            usleep(20_000)
        }
        #expect(sawNotReady)
        // During the delay new connections are still accepted and served.
        let client = try CLISocket(port: port)
        try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = client.readUntilClosed(timeout: 5)
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.hasSuffix("\r\n\r\nslow"))
        #expect(running.wait(timeout: 10) == 0)
        #expect(running.errorText.value.contains(
            "attache: draining: /readyz answers 503; accepting for 1 s more, then up to 5 s for exchanges in flight\n"))
        #expect(running.errorText.value.hasSuffix("attache: stopped\n"))
    }

    @Test func statsIntervalPrintsTheStatsDocument() throws {
        // Nothing listens on port 1: the exchange ends in a 502, which `profile` records too.
        let running = try Running([
            "run", "--rules", "rules", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1",
            "--stats-interval", "0.2", "--log-format", "json",
        ])
        defer { kill(running.process.processIdentifier, SIGINT) }
        let port = try #require(running.listeningPort())
        let client = try CLISocket(port: port)
        try client.send("GET /unreachable HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(client.readUntilClosed(timeout: 5).hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        let line = try #require(running.outputLine { $0.contains("\"/unreachable\":{") })
        let document = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let key = try #require(
            (((document["rules"] as? [String: Any])?["profile"] as? [String: Any])?["keys"] as? [String: Any])?[
                "/unreachable"] as? [String: Any])
        #expect(key["hits"] as? Int == 1)
        #expect(key["statuses"] as? [String: Int] == ["502": 1])
        #expect(document["generation"] as? Int == 1)
        // The access log is JSON too, and so are attache's own messages.
        let access = try #require(running.outputLine { $0.contains("\"rule\":\"access\"") })
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(access.utf8)) as? [String: Any])
        #expect(entry["status"] as? Int == 502)
        #expect(entry["path"] as? String == "/unreachable")
        let first = try #require(running.errorText.value.split(separator: "\n").first)
        let message = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect((message["message"] as? String)?.hasPrefix("listening on 127.0.0.1:") == true)
        #expect(message["level"] as? String == "info")
    }

    @Test func adminOnTheRelayPortIsRefused() throws {
        let running = try Running(["run", "--listen", "127.0.0.1:18123", "--admin", "127.0.0.1:18123"])
        #expect(running.wait(timeout: 10) == 64)
        #expect(running.errorText.value.contains("--admin must not use the relay's port 18123"))
    }
}

/// An upstream that answers `/slow` after 800 ms, on a thread of its own.
final class SlowUpstream: @unchecked Sendable {
    let listener: Int32
    let port: Int
    private let received = DispatchSemaphore(value: 0)
    private var stopped = false

    init() throws {
        (listener, port) = listenOnLoopback(backlog: 16)
        Thread.detachNewThread { [self] in serve() }
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var request: [UInt8] = []
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let count = recv(connection, &buffer, buffer.count, 0)
                if count <= 0 { break }
                request += buffer[0..<count]
            }
            received.signal()
            usleep(800_000)
            let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow".utf8)
            _ = send(connection, response, response.count, Int32(MSG_NOSIGNAL))
            close(connection)
        }
    }

    func waitForRequest() -> Bool {
        received.wait(timeout: .now() + 5) == .success
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

/// A blocking client socket for the CLI tests.
final class CLISocket {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            throw CLISocketError.connect
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw CLISocketError.send }
    }

    /// One `GET` on a new connection (HTTP/1.0, so the server closes); `nil` if nothing answers.
    static func get(port: Int, path: String) -> String? {
        guard let socket = try? CLISocket(port: port) else { return nil }
        guard (try? socket.send("GET \(path) HTTP/1.0\r\n\r\n")) != nil else { return nil }
        return socket.readUntilClosed(timeout: 2)
    }

    func readUntilClosed(timeout: Double) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

enum CLISocketError: Error {
    case connect
    case send
}
