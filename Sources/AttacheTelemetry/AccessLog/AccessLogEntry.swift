/// The structured fields of one access-log line in `--log-format json`, borrowed from the
/// exchange while the line is written (nothing is copied).
public struct AccessLogEntry {
    public var epochNanoseconds: Int64
    public var rule: String
    /// The rendered `log` template.
    public var message: UnsafeRawBufferPointer
    public var method: UnsafeRawBufferPointer
    /// The path the rules saw (normalized, without the query).
    public var path: UnsafeRawBufferPointer
    public var status: Int
    public var durationNanoseconds: Int64
    public var upstreamNanoseconds: Int64?
    public var requestID: UnsafeRawBufferPointer
    public var clientIP: String

    public init(
        epochNanoseconds: Int64, rule: String, message: UnsafeRawBufferPointer, method: UnsafeRawBufferPointer,
        path: UnsafeRawBufferPointer, status: Int, durationNanoseconds: Int64, upstreamNanoseconds: Int64?,
        requestID: UnsafeRawBufferPointer, clientIP: String
    ) {
        self.epochNanoseconds = epochNanoseconds
        self.rule = rule
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.durationNanoseconds = durationNanoseconds
        self.upstreamNanoseconds = upstreamNanoseconds
        self.requestID = requestID
        self.clientIP = clientIP
    }

    /// `{"time":…,"rule":…,"message":…,"method":…,"path":…,"status":…,"duration_ms":…,
    /// "upstream_ms":…,"request_id":…,"client_ip":…}` (no newline). Headers never appear here:
    /// a secret reaches the log only through a template that names its field.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("time")
        writer.time(epochNanoseconds: epochNanoseconds)
        writer.key("rule")
        writer.string(rule)
        writer.key("message")
        writer.string(bytes: message)
        writer.key("method")
        writer.string(bytes: method)
        writer.key("path")
        writer.string(bytes: path)
        writer.key("status")
        writer.int(status)
        writer.key("duration_ms")
        writer.milliseconds(nanoseconds: durationNanoseconds)
        writer.key("upstream_ms")
        if let upstreamNanoseconds {
            writer.milliseconds(nanoseconds: upstreamNanoseconds)
        } else {
            writer.null()
        }
        writer.key("request_id")
        writer.string(bytes: requestID)
        writer.key("client_ip")
        writer.string(clientIP)
        writer.endObject()
    }
}
