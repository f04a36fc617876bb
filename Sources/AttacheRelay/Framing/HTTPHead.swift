/// A parsed request or response head: offsets into the bytes it was parsed from (which the
/// caller keeps), plus the facts framing and the rules need. Reused from one message to the
/// next so parsing allocates nothing once the field array has grown.
public struct HTTPHead {
    public struct Field: Sendable {
        /// Byte ranges in the head.
        public var name: Range<Int32>
        /// The value without surrounding whitespace.
        public var value: Range<Int32>
        /// The whole line, CRLF included, for copying it when the head is rewritten.
        public var line: Range<Int32>
        public var flags: Flags
        /// The rule table's slot for this name, or -1.
        public var slot: Int32

        /// Fills storage beyond the head's fields.
        static let unused = Field(name: 0..<0, value: 0..<0, line: 0..<0, flags: [], slot: -1)
    }

    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Connection-specific (RFC 9110 §7.6.1): never forwarded.
        public static let hopByHop = Flags(rawValue: 1 << 0)
        public static let forwardedFor = Flags(rawValue: 1 << 1)
        public static let forwardedProto = Flags(rawValue: 1 << 2)
        public static let contentLength = Flags(rawValue: 1 << 3)
        public static let transferEncoding = Flags(rawValue: 1 << 4)
        public static let upgrade = Flags(rawValue: 1 << 5)
        public static let expect = Flags(rawValue: 1 << 6)
    }

    public enum Version: Sendable, Equatable {
        case http10
        case http11

        public var text: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
    }

    // Request line (requests only).
    public var method: Range<Int32> = 0..<0
    public var target: Range<Int32> = 0..<0
    // Status line (responses only).
    public var status: Int = 0
    public var reason: Range<Int32> = 0..<0

    public var version: Version = .http11
    /// Bytes from the start of the message to the end of the empty line.
    public var length: Int = 0
    /// Where the last field line ends (before the empty line): new fields are inserted here.
    public var fieldsEnd: Int = 0
    /// The field lines, in order.
    public var fields: ArraySlice<Field> { fieldStorage[..<fieldCount] }
    public private(set) var fieldCount = 0
    /// Holds `fields` in its first `fieldCount` entries; the rest are left from earlier heads, so
    /// that a reused head is emptied by setting the count (`removeAll(keepingCapacity:)` went
    /// through a generic `replaceSubrange`, ≈ 67 instructions a head).
    private var fieldStorage: [Field] = []

    // Framing facts.
    public var contentLength: Int64? = nil
    /// Transfer-Encoding present; `chunked` tells whether its final coding is `chunked`.
    public var hasTransferEncoding = false
    public var chunked = false
    public var connectionClose = false
    public var connectionKeepAlive = false
    public var connectionUpgrade = false
    public var hostCount = 0
    public var host: Range<Int32>? = nil
    public var expectContinue = false
    /// An Expect value other than 100-continue (answered with 417).
    public var expectOther = false
    public var hopByHopCount = 0

    public init() {}

    mutating func reset() {
        method = 0..<0
        target = 0..<0
        status = 0
        reason = 0..<0
        version = .http11
        length = 0
        fieldsEnd = 0
        fieldCount = 0
        contentLength = nil
        hasTransferEncoding = false
        chunked = false
        connectionClose = false
        connectionKeepAlive = false
        connectionUpgrade = false
        hostCount = 0
        host = nil
        expectContinue = false
        expectOther = false
        hopByHopCount = 0
    }

    /// Calls `body` with the fields in place (reading `fields` copies the head's array reference
    /// into a slice, which writers on the hot path need not pay for).
    @inline(__always)
    func withFields<Result>(_ body: (UnsafeBufferPointer<Field>) -> Result) -> Result {
        fieldStorage.withUnsafeBufferPointer { storage in
            body(UnsafeBufferPointer(rebasing: storage[..<fieldCount]))
        }
    }

    /// Adds `batch` after the fields (the parser gathers fields and adds them a batch at a
    /// time: an append per field checked the array's uniqueness and capacity each time).
    mutating func appendFields(_ batch: UnsafeBufferPointer<Field>) {
        let end = fieldCount + batch.count
        if fieldStorage.count < end {
            fieldStorage.append(contentsOf: repeatElement(Field.unused, count: end - fieldStorage.count))
        }
        fieldStorage.withUnsafeMutableBufferPointer { storage in
            (storage.baseAddress! + fieldCount).update(from: batch.baseAddress!, count: batch.count)
        }
        fieldCount = end
    }

    /// Adds `flags` to the field at `index` (`index < fieldCount`).
    mutating func insertFlags(_ flags: Flags, atField index: Int) {
        precondition(index < fieldCount, "field index beyond the head's fields")
        fieldStorage[index].flags.formUnion(flags)
    }

    /// Whether the connection stays open after this message (RFC 9112 §9.3).
    public var keepsAlive: Bool {
        switch version {
        case .http11: return !connectionClose
        case .http10: return connectionKeepAlive && !connectionClose
        }
    }
}
