import NIOCore

/// The client side of an exchange, as the upstream connection sees it. All calls happen on the
/// shared event loop, in order.
protocol UpstreamDelegate: AnyObject {
    /// An interim (1xx, not 101) response head.
    func upstreamInterimResponse(_ head: HTTPHead, bytes: ByteBuffer)
    /// The final response head; the body (if any) follows.
    func upstreamResponse(_ head: HTTPHead, bytes: ByteBuffer, framing: BodyFraming)
    func upstreamBody(_ bytes: ByteBuffer)
    func upstreamResponseEnd()
    func upstreamFailed(_ failure: UpstreamFailure)
    /// A read burst ended: time to flush what was written to the client.
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// After a 101, the upstream's bytes and half-close.
    func upstreamTunnelData(_ bytes: ByteBuffer)
    func upstreamTunnelInputClosed()
}
