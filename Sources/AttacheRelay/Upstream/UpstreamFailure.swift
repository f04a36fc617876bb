/// How talking to the upstream went wrong, which decides what the client sees.
public enum UpstreamFailure: Error, Equatable, Sendable {
    /// No connection (refused, unreachable, connect timeout): 502.
    case connectFailed(String)
    /// The connection closed or reset before a complete response head: 502.
    case closedBeforeResponse
    /// The response head was malformed: 502.
    case malformedResponse(String)
    /// No response head within the response timeout: 504.
    case timeout
    /// The upstream failed after the response head was sent on (reset, early close, timeout,
    /// bad framing): the client connection must end abruptly.
    case failedMidBody(String)

    /// The status attache answers with when nothing of the response was sent yet.
    public var status: Int {
        self == .timeout ? 504 : 502
    }

    public var detail: String {
        switch self {
        case .connectFailed(let reason): "cannot connect to the upstream: \(reason)"
        case .closedBeforeResponse: "the upstream closed the connection before responding"
        case .malformedResponse(let reason): "malformed response from the upstream: \(reason)"
        case .timeout: "the upstream did not respond in time"
        case .failedMidBody(let reason): "the upstream failed during the response body: \(reason)"
        }
    }
}
