/// Why a head was refused, and the status attache answers a client with.
public enum HeadError: Error, Equatable, Sendable {
    /// Malformed syntax (400), with what was wrong for the log.
    case malformed(String)
    /// Request line over the limit (414).
    case requestLineTooLong
    /// Header block over the byte limit or field count (431).
    case headerTooLarge(String)
    /// An HTTP version other than 1.0 / 1.1 (505).
    case versionNotSupported
    /// A transfer coding attache cannot frame (501).
    case transferCodingNotImplemented

    public var status: Int {
        switch self {
        case .malformed: 400
        case .requestLineTooLong: 414
        case .headerTooLarge: 431
        case .versionNotSupported: 505
        case .transferCodingNotImplemented: 501
        }
    }

    public var detail: String {
        switch self {
        case .malformed(let detail): detail
        case .requestLineTooLong: "request line too long"
        case .headerTooLarge(let detail): detail
        case .versionNotSupported: "HTTP version not supported"
        case .transferCodingNotImplemented: "transfer coding not implemented"
        }
    }
}
