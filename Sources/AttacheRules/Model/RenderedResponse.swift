/// A response produced by a rule, rendered for one exchange.
public struct RenderedResponse: Sendable, Equatable {
    public var status: Int
    public var reason: String
    /// Template headers in order, then `content-length` (computed from the body).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: RenderedResponse, rhs: RenderedResponse) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// The response as it goes on the wire; for HEAD the body is left out (the length stays).
    public func serialized(includeBody: Bool = true) -> [UInt8] {
        var bytes = Array("HTTP/1.1 \(status) \(reason)\r\n".utf8)
        for (name, value) in headers {
            bytes += Array("\(name): \(value)\r\n".utf8)
        }
        bytes += Array("\r\n".utf8)
        if includeBody { bytes += body }
        return bytes
    }
}

extension ResponseTemplate {
    /// Renders status, headers and body. `matchedStatus` is the status that triggered a
    /// response-phase rule, kept when the template has no `status` of its own.
    public func render<Context: TemplateContext>(_ context: Context, matchedStatus: Int?) -> RenderedResponse {
        let status = self.status ?? matchedStatus ?? 200
        var output: [UInt8] = []
        var scratch: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        for (name, template) in self.headers {
            output.removeAllKeepingCapacity()
            template.render(context, into: &output, scratch: &scratch)
            headers.append((name, String(decoding: output, as: UTF8.self)))
        }
        var bodyBytes: [UInt8] = []
        body?.render(context, into: &bodyBytes, scratch: &scratch)
        headers.append(("content-length", String(bodyBytes.count)))
        return RenderedResponse(status: status, reason: HTTPReason.phrase(status), headers: headers, body: bodyBytes)
    }
}

extension ResponseTemplate {
    /// Renders the response straight into the bytes that go on the wire, for the relay: into
    /// `output` the status line, the template's headers, `content-length`, then `extraHeaders`
    /// (already formatted lines, such as `Connection: close\r\n`) and the empty line; into `body`
    /// (emptied first) the body, which the caller writes after the head, or leaves out for HEAD.
    /// Together the same bytes as `render(...).serialized()` with those lines added; `body` and
    /// `scratch` are working space a caller keeps, so a warm caller renders without allocating.
    /// Returns the status.
    public func renderWire<Context: TemplateContext>(
        _ context: Context, matchedStatus: Int?, extraHeaders: StaticString?,
        into output: inout [UInt8], body: inout [UInt8], scratch: inout [UInt8]
    ) -> Int {
        let status = self.status ?? matchedStatus ?? 200
        if self.status == nil { Self.appendStatusLine(status, to: &output) }
        for index in wirePieces.indices {
            output.append(contentsOf: wirePieces[index].bytes)
            wirePieces[index].value.render(context, into: &output, scratch: &scratch)
        }
        output.append(contentsOf: wireTail)
        body.removeAllKeepingCapacity()
        self.body?.render(context, into: &body, scratch: &scratch)
        ValueFormatting.appendDecimal(body.count, to: &output)
        // One append for the line end and the blank line when nothing goes between them: each
        // append costs about a hundred instructions whatever its length.
        if let extraHeaders {
            output.appendLiteral("\r\n")
            output.appendLiteral(extraHeaders)
            output.appendLiteral("\r\n")
        } else {
            output.appendLiteral("\r\n\r\n")
        }
        return status
    }
}

extension Array where Element == UInt8 {
    /// Appends a literal's bytes as one copy (appending `"…".utf8` goes through the generic
    /// sequence path, which the rule responses paid several times per response).
    @inline(__always)
    mutating func appendLiteral(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
