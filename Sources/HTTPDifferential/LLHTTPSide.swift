import NIOCore
import NIOEmbedded
import NIOHTTP1

/// NIOHTTP1's decoders (llhttp) over the same bytes, on an `EmbeddedChannel`.
public enum LLHTTPSide {
    public static func requests(_ bytes: [UInt8]) -> ParseSummary {
        let channel = EmbeddedChannel()
        // Always close: an unfinished EmbeddedChannel keeps a reference cycle alive.
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try? channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        var summary = ParseSummary()
        var current: ParseSummary.Message? = nil
        func drain() {
            while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head):
                    current = ParseSummary.Message(
                        start: head.method.rawValue, target: head.uri,
                        version: "HTTP/\(head.version.major).\(head.version.minor)",
                        headers: head.headers.map { "\($0.name.lowercased()): \(trim($0.value))" }, bodyLength: 0)
                case .body(let body):
                    current?.bodyLength += body.readableBytes
                case .end:
                    if let message = current { summary.messages.append(message) }
                    current = nil
                }
            }
        }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            try channel.writeInbound(buffer)
        } catch {
            summary.rejected = true
        }
        drain()
        if current != nil && !summary.rejected { summary.partialMessage = true }
        return summary
    }

    /// Responses to GET requests (one request is announced per possible response).
    public static func responses(_ bytes: [UInt8]) -> ParseSummary {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try? channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        for _ in 0..<8 {
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
            try? channel.writeOutbound(HTTPClientRequestPart.head(head))
        }
        var summary = ParseSummary()
        var current: ParseSummary.Message? = nil
        func drain() {
            while let part = try? channel.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head):
                    current = ParseSummary.Message(
                        start: String(head.status.code), target: "",
                        version: "HTTP/\(head.version.major).\(head.version.minor)",
                        headers: head.headers.map { "\($0.name.lowercased()): \(trim($0.value))" }, bodyLength: 0)
                case .body(let body):
                    current?.bodyLength += body.readableBytes
                case .end:
                    if let message = current { summary.messages.append(message) }
                    current = nil
                }
            }
        }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        do {
            try channel.writeInbound(buffer)
        } catch {
            summary.rejected = true
        }
        drain()
        // The connection closes after the bytes: a close-delimited body ends here.
        if !summary.rejected {
            do {
                _ = try channel.finish()
            } catch {
                summary.rejected = true
            }
            drain()
        }
        if current != nil && !summary.rejected { summary.partialMessage = true }
        return summary
    }

    static func trim(_ value: String) -> String {
        var text = Substring(value)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
