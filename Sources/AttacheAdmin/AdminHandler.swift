import Dispatch
import NIOCore
import NIOHTTP1

/// One admin connection: NIOHTTP1 parses the requests (the admin port is not on the data
/// path) and its pipelining handler hands them over one at a time; the router answers on a
/// worker queue (gathering statistics waits for the relay's loops), and the answer is written
/// back on the connection's loop.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: AdminRouter
    private let queue: DispatchQueue
    private var head: HTTPRequestHead?
    /// Cleared when the handler leaves the pipeline: an answer computed after that is dropped.
    private var attached = true

    init(router: AdminRouter, queue: DispatchQueue) {
        self.router = router
        self.queue = queue
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break  // no admin endpoint takes a body
        case .end:
            guard let head else { return }
            self.head = nil
            answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let router = self.router
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let method = head.method.rawValue
        let uri = head.uri
        queue.async {
            let response = router.respond(method: method, target: uri)
            loopBound.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.write(response, for: head, context: context)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        attached = false
    }

    private func write(_ response: AdminResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        guard attached else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        headers.add(name: "cache-control", value: "no-store")
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
