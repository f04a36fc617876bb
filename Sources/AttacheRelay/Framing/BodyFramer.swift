/// How a message body is delimited (RFC 9112 §6.3).
public enum BodyFraming: Equatable, Sendable {
    case none
    case length(Int64)
    case chunked
    /// Until the connection closes (responses only).
    case untilClose

    /// The framing of a request body; the parser already refused the ambiguous cases.
    public static func request(_ head: HTTPHead) -> BodyFraming {
        if head.chunked { return .chunked }
        if let length = head.contentLength, length > 0 { return .length(length) }
        return .none
    }

    /// The framing of a response body, given the request's method and whether it was HEAD.
    public static func response(_ head: HTTPHead, requestWasHead: Bool) -> BodyFraming {
        if requestWasHead || head.status < 200 || head.status == 204 || head.status == 304 { return .none }
        if head.hasTransferEncoding { return head.chunked ? .chunked : .untilClose }
        if let length = head.contentLength { return length == 0 ? .none : .length(length) }
        return .untilClose
    }
}

/// Finds where a body ends in bytes as they arrive, without copying them: a Content-Length
/// countdown or a `ChunkedDecoder`.
public struct BodyFramer: Sendable {
    public enum Progress: Equatable, Sendable {
        /// The first `count` bytes of the input belong to the body, which continues.
        case more(count: Int)
        /// The first `count` bytes finish the body.
        case finished(count: Int)
        case invalid(String)
    }

    public let framing: BodyFraming
    private var remaining: Int64
    private var decoder = ChunkedDecoder()

    public init(_ framing: BodyFraming) {
        self.framing = framing
        if case .length(let length) = framing { remaining = length } else { remaining = 0 }
    }

    public var isComplete: Bool {
        switch framing {
        case .none: return true
        case .length: return remaining == 0
        case .chunked: return decoder.isDone
        case .untilClose: return false
        }
    }

    /// Consumes the body's share of `input`.
    public mutating func consume(_ input: UnsafeRawBufferPointer) -> Progress {
        switch framing {
        case .none:
            return .finished(count: 0)
        case .length:
            let take = Int(min(remaining, Int64(input.count)))
            remaining -= Int64(take)
            return remaining == 0 ? .finished(count: take) : .more(count: take)
        case .untilClose:
            return .more(count: input.count)
        case .chunked:
            var offset = 0
            while true {
                let (event, next) = decoder.next(input, from: offset)
                switch event {
                case .needMore: return .more(count: input.count)
                case .data: offset = next
                case .end(let at): return .finished(count: at)
                case .invalid(let reason): return .invalid(reason)
                }
            }
        }
    }

    /// Like `consume`, but reports the chunk data ranges too (to re-frame a chunked body for an
    /// HTTP/1.0 client). For other framings the data is the consumed bytes.
    public mutating func consumeData(
        _ input: UnsafeRawBufferPointer, data: (Range<Int>) -> Void
    ) -> Progress {
        guard framing == .chunked else {
            let progress = consume(input)
            switch progress {
            case .more(let count), .finished(let count): if count > 0 { data(0..<count) }
            case .invalid: break
            }
            return progress
        }
        var offset = 0
        while true {
            let (event, next) = decoder.next(input, from: offset)
            switch event {
            case .needMore: return .more(count: input.count)
            case .data(let range):
                data(range)
                offset = next
            case .end(let at): return .finished(count: at)
            case .invalid(let reason): return .invalid(reason)
            }
        }
    }
}
