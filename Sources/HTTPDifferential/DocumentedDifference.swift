/// Where attache deliberately parts from llhttp, each with its reason. A disagreement between
/// the two parsers is a bug unless one of these explains it (docs/reliability.md lists them).
public enum DocumentedDifference: String, CaseIterable, Sendable {
    /// RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host. llhttp does not check.
    case hostCount = "HTTP/1.1 request without exactly one Host"
    /// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is not trusted.
    case transferEncodingOnHTTP10 = "Transfer-Encoding in an HTTP/1.0 request"
    /// Only `chunked` is framed; other codings (`gzip, chunked`) are 501, repeats are 400. And
    /// `chunked` followed by a tab is chunked to attache (whitespace around a field value is not
    /// part of it, RFC 9110 §5.5) but not to llhttp, which reads such a response until close.
    case transferCoding = "Transfer-Encoding other than a single chunked"
    /// Only HTTP/1.0 and 1.1 (505 for other versions).
    case version = "HTTP version other than 1.0 and 1.1"
    /// Content-Length longer than 18 digits.
    case contentLengthDigits = "Content-Length over 18 digits"
    /// A chunk size of more than 15 hex digits (2^60 bytes); llhttp takes up to 16.
    case chunkSizeDigits = "chunk size over 15 hex digits"
    /// Connection must be a list of tokens.
    case connectionSyntax = "Connection value that is not a token list"
    /// The request target must be visible ASCII.
    case targetBytes = "request target with bytes outside visible ASCII"
    /// Heads over 64 KiB or with more than 100 fields (431), request lines over 8 KiB (414).
    case limits = "head over attache's limits"
    /// At most four empty lines before a request line.
    case leadingEmptyLines = "more than four empty lines before the request"
    /// Response status outside 100–599.
    case statusRange = "response status outside 100-599"
    /// The reason phrase must be VCHAR, obs-text, SP or HTAB (RFC 9112 §4); llhttp lets
    /// control characters through.
    case reasonPhrase = "control character in a reason phrase"
    /// A response with both Content-Length and Transfer-Encoding is refused (502).
    case responseLengthAndEncoding = "response with both Content-Length and Transfer-Encoding"
    /// `Connection: close` and `keep-alive` both present: attache closes (llhttp keeps an
    /// HTTP/1.0 connection open). Closing is always safe; guessing keep-alive is not.
    case connectionCloseWins = "both close and keep-alive in Connection"
    /// An upstream that closes after interim (1xx) responses sent no response: 502. NIOHTTP1
    /// drops interim responses and sees nothing wrong.
    case interimWithoutFinal = "connection closed after interim responses only"
    /// Every CR must be followed by LF (llhttp lets some through, as in a status line ending
    /// in CR CR).
    case bareCR = "CR not followed by LF"
    /// A bare CR or LF between requests is refused (llhttp skips it); an empty line (CRLF) before
    /// a request is skipped, as RFC 9112 §2.2 asks.
    case strayLineEnding = "bare CR or LF between requests"
    /// One space between the parts of the request line (RFC 9112 §3); llhttp allows several.
    case requestLineSpaces = "more than one space between request-line parts"
    /// A request target never carries a fragment (RFC 9112 §3.2); `#` is refused, so a rule on
    /// `/orders/**` cannot be dodged with `/orders#x`. llhttp accepts it.
    case fragmentInTarget = "# in the request target"
    /// The asterisk-form target is `*` alone (RFC 9112 §3.2.4); llhttp accepts `*/…`.
    case asteriskForm = "target starting with * but longer"
    /// Chunk extensions follow RFC 9112 §7.1.1 exactly (token names, token or quoted values);
    /// llhttp lets some malformed ones (`;;=1`) through.
    case chunkExtension = "malformed chunk extension"
    /// A 101 to a request that asked for no upgrade is a bad response (502).
    case unexpectedSwitchingProtocols = "101 without an upgrade request"
    /// attache refuses a head at the first byte that cannot fit (a second space in the request
    /// line, a CR inside the target, …) where llhttp still waits for more: attache is only earlier.
    case earlierRefusal = "refused before llhttp decides"
    /// The other way round: llhttp refuses a bad field (`Content-Length:` with no digits) as soon
    /// as its line ends, attache when the head is complete. The input ran out in between; given
    /// the empty line, attache refuses the same message.
    case laterRefusal = "refused by llhttp before the head is complete"
    /// The opposite direction: attache accepts any RFC 9110 token as a method; llhttp knows a
    /// fixed list.
    case methodToken = "method outside llhttp's list"

    static let llhttpMethods: Set<String> = [
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE",
        "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY",
        "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK",
        "UNLINK", "SOURCE", "QUERY",
    ]

    /// The documented difference that explains why the two summaries differ, or `nil` (a bug).
    public static func explain(
        _ bytes: [UInt8], attache: ParseSummary, llhttp: ParseSummary, requests: Bool
    ) -> DocumentedDifference? {
        if hasChunkedWithTab(bytes) { return .transferCoding }
        if !attache.rejected && llhttp.rejected && requests {
            // llhttp stopped at the first message it has not delivered; attache parsed it.
            let their = llhttp.messages.count
            if their == attache.messages.count, !attache.partialMessage,
                refusesCompletedHead(bytes, messages: their)
            {
                return .laterRefusal
            }
            if their < attache.messages.count, !llhttpMethods.contains(attache.messages[their].start) {
                return .methodToken
            }
            if their == attache.messages.count, let method = attache.partialMethod, !llhttpMethods.contains(method) {
                return .methodToken
            }
            // The bytes after the last complete message start a method llhttp does not know
            // (it refuses at the first letter that fits none of its methods).
            if their == attache.messages.count, !attache.partialMessage {
                var start = attache.consumed
                while start < bytes.count, bytes[start] == 13 || bytes[start] == 10 { start += 1 }
                let tokenBytes = bytes[start...].prefix { $0 != 32 }
                let token = String(decoding: tokenBytes, as: UTF8.self)
                let complete = start + tokenBytes.count < bytes.count
                let known = complete ? llhttpMethods.contains(token) : llhttpMethods.contains { $0.hasPrefix(token) }
                if !token.isEmpty, !known { return .methodToken }
            }
            return nil
        }
        if !requests, attache.rejected, let offset = attache.failureOffset, reasonHasControl(Array(bytes[offset...])) {
            return .reasonPhrase
        }
        if !requests, attache.rejected, let offset = attache.failureOffset,
            bytes.count > offset + 12, Array(bytes[(offset + 9)..<(offset + 12)]) == Array("101".utf8)
        {
            return .unexpectedSwitchingProtocols
        }
        if !requests, attache.rejected, attache.messages.isEmpty, bytes.first == 10 || bytes.first == 13 {
            return .strayLineEnding
        }
        if attache.rejected, let offset = attache.failureOffset, hasBareCR(Array(bytes[offset...])) {
            return .bareCR
        }
        if attache.failedInChunkedBody, hexRun(bytes) > 15 { return .chunkSizeDigits }
        if attache.failedInChunkedBody, llhttp.messages.count > attache.messages.count || llhttp.partialMessage,
            bytes.contains(59)
        {
            return .chunkExtension
        }
        if attache.rejected, !llhttp.rejected, llhttp.messages == attache.messages {
            // Either llhttp has the refused message incomplete, or it is still waiting.
            if !llhttp.partialMessage { return .earlierRefusal }
        }
        if attache.endedAfterInterim && !llhttp.rejected && llhttp.messages == attache.messages {
            return .interimWithoutFinal
        }
        // attache refuses an interim response that would end the connection (HTTP/1.0, or
        // Connection: close): there can be no final response after it.
        if !requests, attache.rejected, !llhttp.rejected, llhttp.messages == attache.messages,
            let offset = attache.failureOffset, bytes.count > offset + 9, bytes[offset + 9] == UInt8(ascii: "1")
        {
            return .interimWithoutFinal
        }
        if attache.rejected, let last = attache.messages.last, llhttp.messages.starts(with: attache.messages) {
            let connection = last.headers.filter { $0.hasPrefix("connection:") }.joined(separator: ",").lowercased()
            if connection.contains("close") && connection.contains("keep-alive") { return .connectionCloseWins }
        }
        // Agreement up to where attache stopped: the next message is the one in question.
        let index = attache.messages.count
        guard Array(llhttp.messages.prefix(index)) == attache.messages else { return nil }
        if attache.rejected && !llhttp.rejected || attache.rejected && llhttp.messages.count > index {
            if requests, leadingEmptyLines(bytes) > 4 { return .leadingEmptyLines }
            if requests, let offset = attache.failureOffset {
                var start = offset
                while start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10 { start += 2 }
                let line = Array(bytes[start...].prefix { $0 != 13 && $0 != 10 })
                if line.indices.dropLast().contains(where: { line[$0] == 32 && line[$0 + 1] == 32 }) {
                    return .requestLineSpaces
                }
                if let space = line.firstIndex(of: 32), line[(space + 1)...].prefix(while: { $0 != 32 }).contains(35) {
                    return .fragmentInTarget
                }
                if let space = line.firstIndex(of: 32), space + 2 < line.count, line[space + 1] == UInt8(ascii: "*"),
                    line[space + 2] != 32
                {
                    return .asteriskForm
                }
            }
            if requests, let offset = attache.failureOffset, offset < bytes.count,
                bytes[offset] == 10 || (bytes[offset] == 13 && (offset + 1 == bytes.count || bytes[offset + 1] != 10))
                    || strayAfterEmptyLines(bytes, from: offset)
            {
                return .strayLineEnding
            }
            if bytes.count > 60 * 1024 { return .limits }
            guard let message = llhttp.messages.count > index ? llhttp.messages[index] : nil else {
                // llhttp is still waiting for the rest of a message attache already refused: look
                // at the head's raw lines instead.
                return explainRaw(Array(bytes[(attache.failureOffset ?? 0)...]), requests: requests)
            }
            return explain(message, requests: requests)
        }
        return nil
    }

    static func explain(_ message: ParseSummary.Message, requests: Bool) -> DocumentedDifference? {
        let names = message.headers.map { String($0.prefix { $0 != ":" }) }
        func values(_ name: String) -> [String] {
            message.headers.filter { $0.hasPrefix(name + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingCharacters(in: " ")
            }
        }
        if message.headers.count > 100 { return .limits }
        if requests {
            if !["HTTP/1.0", "HTTP/1.1"].contains(message.version) { return .version }
            if message.target.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) { return .targetBytes }
            if message.version == "HTTP/1.1", names.filter({ $0 == "host" }).count != 1 { return .hostCount }
            if message.version == "HTTP/1.0", names.contains("host"), names.filter({ $0 == "host" }).count > 1 {
                return .hostCount
            }
            if message.version == "HTTP/1.0", names.contains("transfer-encoding") { return .transferEncodingOnHTTP10 }
            if !llhttpMethods.contains(message.start) { return .methodToken }
        } else {
            if let status = Int(message.start), !(100...599).contains(status) { return .statusRange }
            if names.contains("transfer-encoding"), names.contains("content-length") { return .responseLengthAndEncoding }
        }
        let encodings = values("transfer-encoding")
        if encodings.count > 1 || (encodings.count == 1 && encodings[0].lowercased() != "chunked" && requests) {
            return .transferCoding
        }
        if encodings.count == 1, encodings[0].isEmpty { return .transferCoding }
        if encodings.count == 1, encodings[0].lowercased() != "chunked",
            encodings[0].lowercased().hasSuffix("chunked")
        {
            return .transferCoding
        }
        if values("content-length").contains(where: { $0.count > 18 }) { return .contentLengthDigits }
        if values("connection").contains(where: { value in
            value.unicodeScalars.contains { !($0.isASCII && (isTokenScalar($0) || $0 == "," || $0 == " " || $0 == "\t")) }
        }) {
            return .connectionSyntax
        }
        return nil
    }

    /// For a head llhttp did not finish: find the features in its raw lines.
    static func explainRaw(_ bytes: [UInt8], requests: Bool) -> DocumentedDifference? {
        // Lines up to the first empty line, split on CRLF.
        var lines: [String] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10 {
                if index == start {
                    if !lines.isEmpty { break }
                } else {
                    lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
                }
                start = index + 2
                index += 2
                continue
            }
            index += 1
        }
        guard let first = lines.first else { return nil }
        let parts = first.split(separator: " ", omittingEmptySubsequences: false)
        let headers = lines.dropFirst().map { line -> String in
            guard let colon = line.firstIndex(of: ":") else { return line.lowercased() }
            return line[..<colon].lowercased() + ": " + String(line[line.index(after: colon)...]).trimmingCharacters(in: " ")
        }
        let message = ParseSummary.Message(
            start: requests ? String(parts.first ?? "") : (parts.count > 1 ? String(parts[1]) : ""),
            target: requests && parts.count > 1 ? String(parts[1]) : "",
            version: requests ? String(parts.last ?? "") : String(parts.first ?? ""), headers: headers, bodyLength: 0)
        return explain(message, requests: requests)
    }

    /// Whether attache refuses message number `messages` once the head that the bytes leave
    /// unfinished gets its empty line.
    static func refusesCompletedHead(_ bytes: [UInt8], messages: Int) -> Bool {
        let completed = AttacheSide.requests(bytes + Array("\r\n\r\n".utf8))
        return completed.rejected && completed.messages.count == messages
    }

    /// Whether a Transfer-Encoding line says `chunked` with a tab around it (only a tab after it
    /// makes llhttp disagree; this is asked only of bytes the two parsers disagree on).
    static func hasChunkedWithTab(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        return text.split(separator: "\r\n").contains { line in
            guard line.hasPrefix("transfer-encoding:") else { return false }
            let value = line.dropFirst("transfer-encoding:".count)
            let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            let trimmed = value.drop(while: blank).reversed().drop(while: blank).reversed()
            return value.contains("\t") && String(trimmed) == "chunked"
        }
    }

    /// The longest run of hex digits.
    static func hexRun(_ bytes: [UInt8]) -> Int {
        var longest = 0
        var run = 0
        for byte in bytes {
            let hex = (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
            run = hex ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    /// Whether the status line at the start of `bytes` has a control byte in its reason.
    static func reasonHasControl(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 12 else { return false }
        for byte in bytes[12...] {
            if byte == 13 { return false }
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F { return true }
        }
        return false
    }

    /// Whether the head at the start of `bytes` (up to its empty line) has a CR without LF.
    static func hasBareCR(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            if bytes[index] == 13 {
                if index + 1 < bytes.count, bytes[index + 1] != 10 { return true }
                if index + 3 < bytes.count, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                    return false
                }
            }
            index += 1
        }
        return false
    }

    /// CRLF pairs followed by a bare CR or LF.
    static func strayAfterEmptyLines(_ bytes: [UInt8], from offset: Int) -> Bool {
        var index = offset
        while index + 1 < bytes.count, bytes[index] == 13, bytes[index + 1] == 10 { index += 2 }
        return index < bytes.count && (bytes[index] == 10 || bytes[index] == 13) && index > offset
    }

    static func leadingEmptyLines(_ bytes: [UInt8]) -> Int {
        var count = 0
        var index = 0
        while index + 1 < bytes.count, bytes[index] == 13, bytes[index + 1] == 10 {
            count += 1
            index += 2
        }
        return count
    }

    static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
    }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
