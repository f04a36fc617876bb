#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A plain blocking TCP client on 127.0.0.1, so tests send exactly the bytes they mean and see
/// exactly the bytes that come back (including a close).
final class RawClient {
    private let descriptor: Int32
    private(set) var received: [UInt8] = []
    private(set) var closedByPeer = false
    /// The peer's end came as a reset (ECONNRESET), not an orderly close.
    private(set) var resetByPeer = false

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RawClientError.system("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw RawClientError.system("connect")
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw RawClientError.system("send") }
            offset += written
        }
    }

    /// Half-closes the sending side.
    func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Reads until `done(received)` holds, the peer closes, or `timeout` passes.
    @discardableResult
    func receive(timeout: Double = 5, until done: ([UInt8]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !done(received) {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, !closedByPeer else { return done(received) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, remaining * 1000)))
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                if count < 0 && errno == ECONNRESET { resetByPeer = true }
                closedByPeer = true
            } else {
                received += chunk[0..<count]
            }
        }
        return true
    }

    /// Reads until the peer closes (or `timeout`); `true` if it closed.
    @discardableResult
    func receiveUntilClosed(timeout: Double = 5) -> Bool {
        receive(timeout: timeout) { _ in false }
        return closedByPeer
    }

    /// Reads one complete response (Content-Length, chunked, or no body for HEAD/1xx/204/304)
    /// and removes it from `received`.
    func readResponse(timeout: Double = 5, headRequest: Bool = false) throws -> HTTPTestResponse {
        var response: HTTPTestResponse? = nil
        receive(timeout: timeout) { bytes in
            response = HTTPTestResponse.parse(bytes, headRequest: headRequest)
            return response != nil
        }
        guard let response else {
            throw RawClientError.incomplete(String(decoding: received, as: UTF8.self), closedByPeer)
        }
        received.removeFirst(response.wireLength)
        return response
    }

    func take() -> [UInt8] {
        defer { received = [] }
        return received
    }
}

enum RawClientError: Error {
    case system(String)
    case incomplete(String, Bool)
}

/// A response as the tests see it, parsed independently of attache's own parser.
struct HTTPTestResponse {
    var statusLine: String
    var status: Int
    /// Field names lower-cased, in order.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var wireLength: Int

    func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    static func parse(_ bytes: [UInt8], headRequest: Bool) -> HTTPTestResponse? {
        guard let end = find(bytes, Array("\r\n\r\n".utf8), from: 0) else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let headers = lines.map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let bodyStart = end + 4
        var response = HTTPTestResponse(
            statusLine: statusLine, status: status, headers: headers, body: [], wireLength: bodyStart)
        if headRequest || status < 200 || status == 204 || status == 304 { return response }
        if let length = response.header("content-length").flatMap(Int.init) {
            guard bytes.count >= bodyStart + length else { return nil }
            response.body = Array(bytes[bodyStart..<(bodyStart + length)])
            response.wireLength = bodyStart + length
            return response
        }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            var position = bodyStart
            var body: [UInt8] = []
            while true {
                guard let lineEnd = find(bytes, Array("\r\n".utf8), from: position) else { return nil }
                let sizeText = String(decoding: bytes[position..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { return nil }
                position = lineEnd + 2
                if size == 0 {
                    guard let trailerEnd = find(bytes, Array("\r\n".utf8), from: position) else { return nil }
                    // Trailers are not used by the tests: expect the final CRLF right away.
                    guard trailerEnd == position else { return nil }
                    response.body = body
                    response.wireLength = position + 2
                    return response
                }
                guard bytes.count >= position + size + 2 else { return nil }
                body += bytes[position..<(position + size)]
                position += size + 2
            }
        }
        return nil
    }

    static func find(_ bytes: [UInt8], _ needle: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return bytes.withUnsafeBufferPointer { haystack in
            var index = start
            outer: while index + needle.count <= haystack.count {
                for offset in 0..<needle.count where haystack[index + offset] != needle[offset] {
                    index += 1
                    continue outer
                }
                return index
            }
            return nil
        }
    }
}
