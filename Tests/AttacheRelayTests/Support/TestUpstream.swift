import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real upstream for the end-to-end tests: NIOHTTP1 parses the requests it receives, and
/// responses are written as raw bytes so a test can misbehave exactly (split status lines,
/// resets, garbage). What it does depends on the path; see `respond`.
final class TestUpstream: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    let port: Int
    let requests = NIOLockedValueBox<Int>(0)
    let openConnections = NIOLockedValueBox<Int>(0)
    /// Every request head received, as "METHOD URI" plus the header lines.
    let heads = NIOLockedValueBox<[String]>([])

    init() throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = Counters(requests: requests, open: openConnections, heads: heads)
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                do {
                    let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
                    try channel.pipeline.syncOperations.addHandler(decoder, name: "decoder")
                    try channel.pipeline.syncOperations.addHandler(TestUpstreamHandler(counters: state))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    var requestCount: Int { requests.withLockedValue { $0 } }
    var openConnectionCount: Int { openConnections.withLockedValue { $0 } }

    struct Counters: Sendable {
        let requests: NIOLockedValueBox<Int>
        let open: NIOLockedValueBox<Int>
        let heads: NIOLockedValueBox<[String]>
    }

    /// Deterministic body bytes for `/size/N`: a prefix of one long pattern made once.
    static func pattern(_ count: Int) -> [UInt8] {
        count <= longPattern.count ? Array(longPattern[0..<count]) : (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) }
    }

    private static let longPattern: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 16 << 20)
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index % 251) }
        }
        return bytes
    }()
}

private final class TestUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    let counters: TestUpstream.Counters
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var tunnel = false
    /// Set by `HEAD /stray/next`: the next response on this connection starts with stray bytes.
    var strayBeforeNext = false

    init(counters: TestUpstream.Counters) {
        self.counters = counters
    }

    func channelActive(context: ChannelHandlerContext) {
        counters.open.withLockedValue { $0 += 1 }
    }

    func channelInactive(context: ChannelHandlerContext) {
        counters.open.withLockedValue { $0 -= 1 }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if tunnel {
            // After the upgrade the decoder is gone: echo raw bytes.
            context.writeAndFlush(data, promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            counters.requests.withLockedValue { $0 += 1 }
            let lines = ["\(head.method) \(head.uri)"] + head.headers.map { "\($0.name): \($0.value)" }
            counters.heads.withLockedValue { $0.append(lines.joined(separator: "\n")) }
        case .body(var bytes):
            body += bytes.readBytes(length: bytes.readableBytes) ?? []
        case .end:
            if let head { respond(context, head) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else { return }
        // In a tunnel, pass the half-close on; otherwise the peer is gone.
        if tunnel {
            context.close(mode: .output, promise: nil)
        } else {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func send(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) {
        send(context, Array(text.utf8))
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let parts = head.uri.split(separator: "?")[0].split(separator: "/").map(String.init)
        let first = parts.first ?? ""
        let argument = parts.count > 1 ? parts[1] : ""
        if strayBeforeNext {
            strayBeforeNext = false
            send(context, "stray")
        }
        switch first {
        case "stray":
            // A broken upstream that sends a body after a HEAD response: while the connection
            // sits idle (`idle`, 50 ms later), or only once the next request has come (`next`).
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
            if argument == "idle" {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(50)) { bound.value.0.send(bound.value.1, "stray") }
            } else {
                strayBeforeNext = true
            }
        case "size":
            let count = Int(argument) ?? 0
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: \(count)\r\n\r\n")
            // No body after a HEAD (RFC 9110 §9.3.2). Bytes sent after one would reach attache in
            // the same read or a later one, as TCP happens to split them: in a later one, after
            // the connection went back to the pool, the next request's response would start with
            // them (a flaky 502 in `headRequestsAnd204And304HaveNoBody`).
            if head.method != .HEAD { send(context, TestUpstream.pattern(count)) }
        case "chunked":
            let count = Int(argument) ?? 0
            send(context, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            let bytes = TestUpstream.pattern(count)
            var offset = 0
            while offset < count {
                let piece = min(4096, count - offset)
                send(context, String(piece, radix: 16) + "\r\n")
                send(context, Array(bytes[offset..<(offset + piece)]) + Array("\r\n".utf8))
                offset += piece
            }
            send(context, "0\r\n\r\n")
        case "echo":
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n")
            send(context, body)
        case "status":
            let status = Int(argument) ?? 500
            if status == 204 || status == 304 {
                send(context, "HTTP/1.1 \(status) X\r\n\r\n")
            } else {
                let text = "status \(status)"
                send(context, "HTTP/1.1 \(status) X\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
            }
        case "split-404":
            send(context, "HTTP/1.1 40")
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(50)) {
                bound.value.0.send(bound.value.1, "4 Not Found\r\nContent-Length: 5\r\n\r\nnope!")
            }
        case "contains-404":
            let text = "HTTP/1.1 404 Not Found\r\n\r\n"
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
        case "silent":
            break
        case "reset-mid-body":
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(20)) {
                let context = bound.value
                let provider = context.channel as! SocketOptionProvider
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                    bound.value.close(promise: nil)
                }
            }
        case "headers":
            let text = (["\(head.method) \(head.uri) \(head.version)"] + head.headers.map { "\($0.name): \($0.value)" })
                .joined(separator: "\n")
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
        case "count":
            let text = String(counters.requests.withLockedValue { $0 })
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
        case "close":
            send(context, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye")
            context.close(promise: nil)
        case "no-length":
            send(context, "HTTP/1.1 200 OK\r\n\r\nuntil close")
            context.close(promise: nil)
        case "interim":
            send(context, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n")
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        case "delay":
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(argument) ?? 0)) {
                bound.value.0.send(bound.value.1, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ndelayed")
            }
        case "set-cookie":
            send(context, "HTTP/1.1 200 OK\r\nSet-Cookie: sid=SECRET-SET-COOKIE\r\nContent-Length: 2\r\n\r\nok")
        case "bad-status":
            send(context, "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n")
        case "cl-te":
            send(context, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        case "hop":
            send(context, "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nX-Internal: secret\r\nKeep-Alive: timeout=5\r\nX-Public: yes\r\nContent-Length: 2\r\n\r\nok")
        case "upgrade":
            send(context, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
            tunnel = true
            _ = context.pipeline.syncOperations.removeHandler(name: "decoder")
        default:
            send(context, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
        }
    }
}
