#if canImport(Glibc)
import Glibc
#endif
import AttacheTestSupport
import Foundation
import Testing

/// Hot reload of `attache run` as a process, with the rules directory laid out and swapped the
/// way kubelet updates a mounted ConfigMap, while a real client keeps sending requests.
@Suite(.serialized)
struct ReloadCommandTests {
    static func versionRules(_ version: String) -> [String: String] {
        ["rules.yaml": "rules:\n  - name: version\n    when: { path: /version }\n    respond: { status: 200, body: \"\(version)\" }\n"]
    }

    /// Starts attache on `directory` in front of a `FastUpstream`.
    static func start(_ directory: String, upstream: FastUpstream, extra: [String] = []) throws -> (
        RunCommandTests.Running, port: Int, admin: Int
    ) {
        let running = try RunCommandTests.Running(
            ["run", "--rules", directory, "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.port)",
             "--drain-delay", "0"] + extra)
        let port = try #require(running.listeningPort())
        let admin = try #require(running.adminPort())
        return (running, port, admin)
    }

    /// The body of `GET path` on a new connection, or `nil`.
    static func body(port: Int, path: String) -> String? {
        guard let response = CLISocket.get(port: port, path: path),
            let split = response.range(of: "\r\n\r\n")
        else { return nil }
        return String(response[split.upperBound...])
    }

    /// Waits until `GET /version` answers `expected`; returns the seconds it took.
    /// Whether the process's log shows `text` within 5 s: a reload's line is written after the
    /// swap, so it can reach the pipe after the first request the new rules answered.
    static func logs(_ running: RunCommandTests.Running, contain text: String) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while !running.errorText.value.contains(text), Date() < deadline { usleep(20_000) }
        return running.errorText.value.contains(text)
    }

    static func secondsUntil(port: Int, path: String = "/version", answers expected: String, limit: Double = 5) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            if body(port: port, path: path) == expected { return Date().timeIntervalSince(start) }
            usleep(20_000)
        }
        return nil
    }

    static func rulesDocument(admin: Int) throws -> [String: Any] {
        let text = try #require(body(port: admin, path: "/rules"))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func twentyConfigMapSwapsUnderContinuousTrafficLoseNothing() throws {
        let upstream = try FastUpstream()
        defer { upstream.stop() }
        let directory = try ConfigMapDirectory()
        try directory.publish(Self.versionRules("v1"))
        let (running, port, admin) = try Self.start(directory.root, upstream: upstream)
        defer { _ = kill(running.process.processIdentifier, SIGTERM); _ = running.wait(timeout: 10) }

        let traffic = Traffic(port: port)
        traffic.start()
        var slowest = 0.0
        for version in 2...21 {
            try directory.publish(Self.versionRules("v\(version)"))
            let seconds = try #require(Self.secondsUntil(port: port, answers: "v\(version)"), "v\(version) never appeared")
            slowest = max(slowest, seconds)
        }
        traffic.stop()

        #expect(slowest <= 2, "slowest swap took \(slowest) s")
        #expect(traffic.failures.isEmpty, "\(traffic.failures.prefix(5))")
        #expect(traffic.requests > 100)
        // Versions were only ever seen in order: never an old table after a new one.
        #expect(traffic.versionsSeen == traffic.versionsSeen.sorted())
        let rules = try Self.rulesDocument(admin: admin)
        #expect(rules["generation"] as? Int == 21)
        #expect((rules["last_reload"] as? [String: Any])?["result"] as? String == "success")
        let metrics = try #require(Self.body(port: admin, path: "/metrics"))
        #expect(metrics.contains("attache_rules_reload_total{result=\"success\"} 20\n"))
        #expect(metrics.contains("attache_rules_reload_total{result=\"failure\"} 0\n"))
        #expect(Self.logs(running, contain: "attache: rules reloaded (files changed): generation 21, 1 rules from \(directory.root)"))
    }

    @Test func anInvalidSwapKeepsTheRulesInUseAndShowsWhy() throws {
        let upstream = try FastUpstream()
        defer { upstream.stop() }
        let directory = try ConfigMapDirectory()
        try directory.publish(Self.versionRules("good"))
        let (running, port, admin) = try Self.start(directory.root, upstream: upstream)
        defer { _ = kill(running.process.processIdentifier, SIGTERM); _ = running.wait(timeout: 10) }

        try directory.publish(["rules.yaml": "rules:\n  - name: version\n    when: { stauts: 404 }\n    log: x\n"])
        var failed: [String: Any]?
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, failed == nil {
            let reload = try Self.rulesDocument(admin: admin)["last_reload"] as? [String: Any]
            if reload?["result"] as? String == "failure" { failed = reload }
            usleep(20_000)
        }
        let reload = try #require(failed)
        let diagnostics = try #require(reload["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.first?["rendered"] as? String
            == "\(directory.root)/rules.yaml:3:13: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]")
        #expect(Self.body(port: port, path: "/version") == "good")
        #expect(try Self.rulesDocument(admin: admin)["generation"] as? Int == 1)
        let metrics = try #require(Self.body(port: admin, path: "/metrics"))
        #expect(metrics.contains("attache_rules_reload_total{result=\"failure\"} 1\n"))
        #expect(Self.logs(running, contain:
            "attache: \(directory.root)/rules.yaml:3:13: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]\n"
                + "attache: reload (files changed) rejected: 1 error in '\(directory.root)'; still serving generation 1\n"))

        // Fixed: the next swap loads.
        try directory.publish(Self.versionRules("fixed"))
        #expect(Self.secondsUntil(port: port, answers: "fixed") != nil)
        #expect(try Self.rulesDocument(admin: admin)["generation"] as? Int == 2)
    }

    @Test func sighupReloadsWithoutWaiting() throws {
        let upstream = try FastUpstream()
        defer { upstream.stop() }
        let file = NSTemporaryDirectory() + "attache-hup-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(Self.versionRules("before")["rules.yaml"]!.utf8).write(to: URL(fileURLWithPath: file))
        let (running, port, _) = try Self.start(file, upstream: upstream, extra: ["--no-watch"])
        defer { _ = kill(running.process.processIdentifier, SIGTERM); _ = running.wait(timeout: 10) }

        try Data(Self.versionRules("after")["rules.yaml"]!.utf8).write(to: URL(fileURLWithPath: file))
        usleep(1_500_000)
        #expect(Self.body(port: port, path: "/version") == "before")  // not watched
        kill(running.process.processIdentifier, SIGHUP)
        let seconds = try #require(Self.secondsUntil(port: port, answers: "after"))
        #expect(seconds < 0.5)
        #expect(Self.logs(running, contain: "attache: rules reloaded (SIGHUP): generation 2, 1 rules from \(file)"))
    }

    @Test func emptiedMissingAndUnreadableRules() throws {
        let upstream = try FastUpstream()
        defer { upstream.stop() }
        let directory = try ConfigMapDirectory()
        try directory.publish(Self.versionRules("ruled"))
        let (running, port, admin) = try Self.start(directory.root, upstream: upstream)
        defer { _ = kill(running.process.processIdentifier, SIGTERM); _ = running.wait(timeout: 10) }

        // Emptied: a valid set without rules, so attache relays everything.
        try directory.publish([:])
        #expect(Self.secondsUntil(port: port, answers: "upstream /version") != nil)
        #expect(try Self.rulesDocument(admin: admin)["generation"] as? Int == 2)

        // Missing: an error; the set in use (the empty one) stays.
        let moved = directory.root + "-moved"
        #expect(rename(directory.root, moved) == 0)
        defer { rename(moved, directory.root) }
        let missing = try #require(try Self.lastFailure(admin: admin))
        #expect(missing == "error: rules path '\(directory.root)' does not exist [A007]")
        #expect(Self.body(port: port, path: "/version") == "upstream /version")
        #expect(rename(moved, directory.root) == 0)
        // Put back unchanged: a successful reload that changes nothing (still generation 2).
        var restored = false
        let settle = Date().addingTimeInterval(3)
        while Date() < settle, !restored {
            let document = try Self.rulesDocument(admin: admin)
            restored = (document["last_reload"] as? [String: Any])?["result"] as? String == "success"
            usleep(20_000)
        }
        #expect(restored)
        #expect(try Self.rulesDocument(admin: admin)["generation"] as? Int == 2)

        // Unreadable: a rules file that is a dangling symlink is an error too.
        try FileManager.default.createSymbolicLink(
            atPath: directory.root + "/broken.yaml", withDestinationPath: "..data/broken.yaml")
        let deadline = Date().addingTimeInterval(3)
        var unreadable: String?
        while Date() < deadline {
            unreadable = try Self.lastFailure(admin: admin)
            if unreadable?.contains("broken.yaml") == true { break }
            usleep(20_000)
        }
        #expect(unreadable
            == "\(directory.root)/broken.yaml:1:1: error: cannot open '\(directory.root)/broken.yaml': No such file or directory [A007]")
        #expect(Self.body(port: port, path: "/version") == "upstream /version")
        #expect(try Self.rulesDocument(admin: admin)["generation"] as? Int == 2)
        let metrics = try #require(Self.body(port: admin, path: "/metrics"))
        #expect(metrics.contains("attache_rules_reload_total{result=\"failure\"} 2\n"))
    }

    /// The first diagnostic of the last failed reload, waiting up to 3 s for one.
    static func lastFailure(admin: Int) throws -> String? {
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            let reload = try rulesDocument(admin: admin)["last_reload"] as? [String: Any]
            if reload?["result"] as? String == "failure",
                let first = (reload?["diagnostics"] as? [[String: Any]])?.first?["rendered"] as? String
            {
                return first
            }
            usleep(20_000)
        }
        return nil
    }
}

/// A client that keeps one keep-alive connection busy with `/version` and a proxied path,
/// reconnecting when the server closes, and records every failure.
final class Traffic: @unchecked Sendable {
    let port: Int
    private let lock = NSLock()
    private var running = true
    private let done = DispatchSemaphore(value: 0)
    private(set) var failures: [String] = []
    private(set) var requests = 0
    private(set) var versionsSeen: [Int] = []

    init(port: Int) {
        self.port = port
    }

    func start() {
        Thread.detachNewThread { [self] in
            var client: KeepAliveClient?
            var index = 0
            while lock.withLock({ running }) {
                do {
                    if client == nil { client = try KeepAliveClient(port: port) }
                    let path = index % 2 == 0 ? "/version" : "/proxied"
                    index += 1
                    let (status, body) = try client!.get(path)
                    lock.withLock {
                        requests += 1
                        if status != 200 {
                            failures.append("\(path): \(status) \(body)")
                        } else if path == "/version", let version = Int(body.dropFirst()) {
                            if versionsSeen.last != version { versionsSeen.append(version) }
                        }
                    }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                    client = nil
                }
            }
            done.signal()
        }
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }
}

/// A blocking HTTP/1.1 client on one connection (Content-Length responses only).
final class KeepAliveClient {
    private let socket: CLISocket
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        socket = try CLISocket(port: port)
    }

    struct Closed: Error {}

    func get(_ path: String) throws -> (Int, String) {
        try socket.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
        while true {
            if let response = parse() { return response }
            var chunk = [UInt8](repeating: 0, count: 4096)
            var poller = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 5000) > 0 else { throw Closed() }
            let count = recv(socket.descriptor, &chunk, chunk.count, 0)
            guard count > 0 else { throw Closed() }
            buffer += chunk[0..<count]
        }
    }

    private func parse() -> (Int, String)? {
        let text = String(decoding: buffer, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<end.lowerBound]
        let status = Int(head.split(separator: " ")[1]) ?? 0
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let headBytes = text[..<end.upperBound].utf8.count
        guard buffer.count >= headBytes + length else { return nil }
        let body = String(decoding: buffer[headBytes..<(headBytes + length)], as: UTF8.self)
        buffer.removeFirst(headBytes + length)
        return (status, body)
    }
}

/// An upstream answering every request at once with `upstream PATH`, keep-alive, one thread
/// per connection.
final class FastUpstream: @unchecked Sendable {
    let listener: Int32
    let port: Int

    init() throws {
        (listener, port) = listenOnLoopback(backlog: 64, reuseAddress: true)
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                Thread.detachNewThread { FastUpstream.serve(connection) }
            }
        }
    }

    private static func serve(_ connection: Int32) {
        defer { close(connection) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            while let end = pending.indices.dropLast(3).first(where: {
                pending[$0] == 13 && pending[$0 + 1] == 10 && pending[$0 + 2] == 13 && pending[$0 + 3] == 10
            }) {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
                let body = "upstream \(path)"
                let response = Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
                guard send(connection, response, response.count, Int32(MSG_NOSIGNAL)) == response.count else { return }
            }
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return }
            pending += chunk[0..<count]
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
