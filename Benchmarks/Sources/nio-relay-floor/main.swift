// The least a SwiftNIO relay can do per request, to measure NIO's own floor in instructions per
// proxied request (bench/run --scenarios instructions counts it next to attache and nginx).
// No HTTP: each client connection gets one upstream connection and bytes pass through unread,
// one handler per channel, writes flushed per read burst. Not a proxy; a measuring stick.
//
//   nio-relay-floor LISTEN_PORT UPSTREAM_PORT      (127.0.0.1 only, one event loop)
// It exits when its standard input ends: signals to a process under valgrind can be lost.
import Foundation
import NIOCore
import NIOPosix

/// Forwards what one channel reads to its peer; flushes once per read burst.
final class Pass: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var peer: Channel?
    var pending = false
    /// Set on the client side: where to connect once the client connection is up.
    let upstream: SocketAddress?

    init(upstream: SocketAddress? = nil) {
        self.upstream = upstream
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let upstream else { return }
        let client = context.channel
        let back = Pass()
        back.peer = client
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { $0.pipeline.addHandler(back) }
            .connect(to: upstream)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.peer = channel
                    client.setOption(.autoRead, value: true).whenComplete { _ in }
                case .failure:
                    client.close(promise: nil)
                }
            }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let peer else { return }
        peer.write(data, promise: nil)
        pending = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pending, let peer {
            pending = false
            peer.flush()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer?.close(promise: nil)
        peer = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        context.close(promise: nil)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let listenPort = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
    print("usage: nio-relay-floor LISTEN_PORT UPSTREAM_PORT")
    exit(2)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let upstreamAddress = try SocketAddress(ipAddress: "127.0.0.1", port: upstreamPort)

let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.autoRead, value: false)
    .childChannelInitializer { client in
        client.pipeline.addHandler(Pass(upstream: upstreamAddress))
    }
    .bind(host: "127.0.0.1", port: listenPort)
    .wait()
print("nio-relay-floor on 127.0.0.1:\(listenPort) → 127.0.0.1:\(upstreamPort)")
while readLine() != nil {}
try server.close().wait()
try group.syncShutdownGracefully()
