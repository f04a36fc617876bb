import AttacheRules
import NIOCore

/// Writes the heads attache sends: a request head for the upstream and a response head for the
/// client, by copying the received lines that stay (as contiguous runs) and appending only what
/// changes — never by re-encoding a parsed model.
public enum HeadWriter {
    /// What the client connection needs said about itself in a response.
    public enum ConnectionField: Sendable {
        /// Nothing: HTTP/1.1 keeps the connection by default.
        case none
        /// `Connection: keep-alive`, for HTTP/1.0 clients that asked for it.
        case keepAlive
        case close
        /// `Connection: upgrade`, with the Upgrade field kept (101 responses).
        case upgrade
    }

    /// The request head for the upstream: HTTP/1.1, hop-by-hop fields removed (RFC 9110
    /// §7.6.1), `Expect` answered by attache itself, `Via` appended (RFC 9110 §7.6.3: a gateway
    /// MUST add it to each inbound request), `X-Forwarded-For` extended with the client's
    /// address and `X-Forwarded-Proto` set. `head` must hold offsets into `bytes`.
    public static func forwardedRequest(
        _ head: HTTPHead, bytes: ByteBuffer, clientAddress: String, defaultHost: String, upgrade: Bool,
        into out: inout ByteBuffer
    ) {
        // What is copied from the head is never longer than the head (the version is rewritten
        // in as many bytes; X-Forwarded-For values lose their field name); the rest is added.
        let bound = Int(head.fieldsEnd) + 2 + addedToRequest + clientAddress.utf8.count + defaultHost.utf8.count
        bytes.withUnsafeReadableBytes { source in
            HeadBytes.write(into: &out, bound: bound) { out in
                // Request line, always as HTTP/1.1 towards the upstream.
                out.append(slice(source, head.method.lowerBound..<(head.target.upperBound + 1)))
                out.append("HTTP/1.1\r\n")
                // Noted rather than gathered: an array here cost a release per request even
                // when empty, and a request rarely has the field.
                var hasForwardedFor = false
                appendKeptLines(of: head, from: source, into: &out) { field in
                    if field.flags.contains(.forwardedFor) {
                        hasForwardedFor = true
                        return false
                    }
                    if field.flags.contains(.upgrade) { return upgrade }
                    return !field.flags.contains(.hopByHop) && !field.flags.contains(.forwardedProto)
                        && !field.flags.contains(.expect)
                }
                if head.hostCount == 0 {
                    out.append("Host: ")
                    out.append(utf8: defaultHost)
                    out.append("\r\n")
                }
                if head.chunked { out.append("Transfer-Encoding: chunked\r\n") }
                if upgrade { out.append("Connection: upgrade\r\n") }
                out.append("X-Forwarded-For: ")
                if hasForwardedFor {
                    head.withFields { fields in
                        for field in fields where field.flags.contains(.forwardedFor) && !field.value.isEmpty {
                            out.append(slice(source, field.value))
                            out.append(", ")
                        }
                    }
                }
                out.append(utf8: clientAddress)
                // After any Via lines the client sent, so the list stays in order.
                if head.version == .http10 {
                    out.append("\r\nVia: 1.0 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
                } else {
                    out.append("\r\nVia: 1.1 attache\r\nX-Forwarded-Proto: http\r\n\r\n")
                }
            }
        }
    }

    /// Room for what `forwardedRequest` adds besides the two strings: Host (8), Transfer-Encoding
    /// (28) and Connection (21) lines, X-Forwarded-For's name (17), then Via, X-Forwarded-Proto
    /// and the empty line (47).
    static let addedToRequest = 128

    /// The response head for the client: the upstream's status and end-to-end fields, as
    /// HTTP/1.1, with the framing and Connection fields attache decides.
    public static func clientResponse(
        _ head: HTTPHead, bytes: ByteBuffer, chunked: Bool, connection: ConnectionField, into out: inout ByteBuffer
    ) {
        // The status line keeps its length; Transfer-Encoding, Connection and the end are added.
        let bound = Int(head.fieldsEnd) + 2 + 28 + 24 + 2
        bytes.withUnsafeReadableBytes { source in
            HeadBytes.write(into: &out, bound: bound) { out in
                out.append("HTTP/1.1")
                // From the space after the version to the end of the status line.
                let statusLineEnd = head.withFields { $0.first.map { $0.line.lowerBound } } ?? Int32(head.fieldsEnd)
                out.append(slice(source, 8..<statusLineEnd))
                appendKeptLines(of: head, from: source, into: &out) { field in
                    field.flags.contains(.upgrade) ? connection == .upgrade : !field.flags.contains(.hopByHop)
                }
                if chunked { out.append("Transfer-Encoding: chunked\r\n") }
                if let line = connectionLine(connection) { out.append(line) }
                out.append("\r\n")
            }
        }
    }

    /// A response attache produced (a rule's template, or an error).
    public static func localResponse(
        _ response: RenderedResponse, includeBody: Bool, connection: ConnectionField, into out: inout ByteBuffer
    ) {
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(response.status))
        out.writeStaticString(" ")
        out.writeString(response.reason)
        out.writeStaticString("\r\n")
        for (name, value) in response.headers {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        writeConnection(connection, into: &out)
        out.writeStaticString("\r\n")
        if includeBody { out.writeBytes(response.body) }
    }

    /// The Connection line for `connection`, as written into a response head.
    static func connectionLine(_ connection: ConnectionField) -> StaticString? {
        switch connection {
        case .none: nil
        case .keepAlive: "Connection: keep-alive\r\n"
        case .close: "Connection: close\r\n"
        case .upgrade: "Connection: upgrade\r\n"
        }
    }

    private static func writeConnection(_ connection: ConnectionField, into out: inout ByteBuffer) {
        if let line = connectionLine(connection) { out.writeStaticString(line) }
    }

    /// Copies the lines of the fields `keep` accepts, in order; consecutive kept lines are one
    /// copy.
    @inline(__always)
    private static func appendKeptLines(
        of head: HTTPHead, from source: UnsafeRawBufferPointer, into out: inout HeadBytes,
        keep: (HTTPHead.Field) -> Bool
    ) {
        var runStart: Int32? = nil
        var runEnd: Int32 = 0
        head.withFields { fields in
            for field in fields {
                if keep(field) {
                    if runStart == nil { runStart = field.line.lowerBound }
                    runEnd = field.line.upperBound
                } else if let start = runStart {
                    out.append(slice(source, start..<runEnd))
                    runStart = nil
                }
            }
        }
        if let start = runStart { out.append(slice(source, start..<runEnd)) }
    }

    /// The head's offsets come from parsing these same bytes; checked all the same, in release
    /// builds too, as `ByteBuffer.getSlice` was: a bad range stops rather than reads past them.
    @inline(__always)
    private static func slice(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int32>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && Int(range.upperBound) <= bytes.count, "head range outside its bytes")
        return UnsafeRawBufferPointer(rebasing: bytes[Int(range.lowerBound)..<Int(range.upperBound)])
    }
}
