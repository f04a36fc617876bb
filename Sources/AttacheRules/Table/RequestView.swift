/// The parts of a request head the rule table looks at, as views into bytes the caller owns.
///
/// Valid only while those bytes are: build one inside a `withUnsafeBytes` scope (the relay does
/// so over its read buffer) and do not keep it. `Request.withView` builds one from plain values.
public struct RequestView {
    /// The method token, case-sensitive (`GET`).
    public var method: UnsafeRawBufferPointer
    /// The path in normal form (`PathNormalizer`), without the query string.
    public var path: UnsafeRawBufferPointer
    /// The request's fields whose names have a slot in the table (`RuleTable.requestHeaderSlot`);
    /// other fields need not be listed. Values without surrounding whitespace.
    public var headers: UnsafeBufferPointer<HeaderField>

    public init(
        method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer, headers: UnsafeBufferPointer<HeaderField>
    ) {
        self.method = method
        self.path = path
        self.headers = headers
    }
}

/// One header field line, by the slot of its name.
public struct HeaderField {
    public var slot: Int
    public var value: UnsafeRawBufferPointer

    public init(slot: Int, value: UnsafeRawBufferPointer) {
        self.slot = slot
        self.value = value
    }
}
