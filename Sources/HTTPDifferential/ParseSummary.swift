/// What a parser made of a byte stream: the messages it completed, whether a further message's
/// head was complete when the bytes ran out, and whether it rejected the stream.
public struct ParseSummary: Equatable, CustomStringConvertible, Sendable {
    public struct Message: Equatable, Sendable {
        /// Requests: the method; responses: the status as text.
        public var start: String
        /// Requests: the target; responses: empty.
        public var target: String
        public var version: String
        /// Names lower-cased, values without surrounding whitespace.
        public var headers: [String]
        public var bodyLength: Int
    }

    public var messages: [Message] = []
    /// A head was complete but its body was not.
    public var partialMessage = false
    public var rejected = false
    /// attache only: the input ended after interim (1xx) responses, with no final one.
    public var endedAfterInterim = false
    /// attache only: where the message it refused starts.
    public var failureOffset: Int?
    /// attache only: the method of the message left incomplete.
    public var partialMethod: String?
    /// attache only: bytes that made up complete messages.
    public var consumed = 0
    /// attache only: the refusal was in a chunked body (after a valid head).
    public var failedInChunkedBody = false

    public init() {}

    public static func == (lhs: ParseSummary, rhs: ParseSummary) -> Bool {
        lhs.messages == rhs.messages && lhs.partialMessage == rhs.partialMessage && lhs.rejected == rhs.rejected
    }

    public var description: String {
        let lines = messages.map { "\($0.start) \($0.target) \($0.version) \($0.headers) body=\($0.bodyLength)" }
        return "[\(lines.joined(separator: "; "))] partial=\(partialMessage) rejected=\(rejected)"
    }

    /// The same outcome: both reject (NIOHTTP1 drops the parts of a buffer in which llhttp
    /// found an error, so the messages before a rejection are not comparable), or both accept
    /// the same messages.
    public func agrees(with other: ParseSummary) -> Bool {
        if rejected && other.rejected { return true }
        return self == other
    }
}
