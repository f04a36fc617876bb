import AttacheRules

/// Limits on a request head, as the operator configured them.
public struct HeadLimits: Sendable {
    /// Request line bytes (414 beyond).
    public var maximumRequestLine: Int
    /// Head bytes, request line included (431 beyond).
    public var maximumHeaderBytes: Int
    /// Field lines (431 beyond).
    public var maximumFields: Int

    public init(maximumRequestLine: Int = 8 * 1024, maximumHeaderBytes: Int = 64 * 1024, maximumFields: Int = 100) {
        self.maximumRequestLine = maximumRequestLine
        self.maximumHeaderBytes = maximumHeaderBytes
        self.maximumFields = maximumFields
    }
}

/// Parses HTTP/1 heads in place (RFC 9112), at least as strictly as llhttp: CRLF line endings
/// only, tokens for methods and field names, no whitespace before the colon, no obs-fold, field
/// values of VCHAR / obs-text / SP / HTAB, one Host, one digits-only Content-Length, and
/// Transfer-Encoding only as `chunked` (never with Content-Length).
///
/// The parser is resumable: feed it the buffered bytes of a message each time more arrive; it
/// remembers how far it has looked for the end of the head, so a client sending one byte at a
/// time costs linear time.
public struct HeadParser {
    public enum Outcome: Equatable {
        /// The head is not complete yet; keep the bytes and call again with more.
        case incomplete
        /// `head` describes the message; its bytes are `0..<head.length`.
        case complete
        case invalid(HeadError)
    }

    public let limits: HeadLimits
    /// Bytes already searched for the end of the head.
    private var scanned = 0
    /// Whether the first line's LF has arrived (checked against the line limit while it has not).
    private var firstLineEnded = false
    /// Reused list of tokens named by Connection, as (start, end) offsets.
    private var connectionTokens: [Range<Int32>] = []
    /// Syntax checked byte by byte as the head arrives; `nil` until a call found the head
    /// incomplete (so also: whether this is the first look at the message).
    private var grammar: HeadGrammar? = nil

    public init(limits: HeadLimits = HeadLimits()) {
        self.limits = limits
    }

    /// Forgets progress, for the next message.
    public mutating func reset() {
        scanned = 0
        firstLineEnded = false
        grammar = nil
    }

    // MARK: Finding the end of the head

    /// Searches for the empty line ending the head; returns the head length, or `nil` if it is
    /// not there yet. A head that is not complete is checked by the byte grammar as it arrives,
    /// so garbage is refused early (as llhttp does); a complete head is checked once, by the
    /// full parse (see `decide`).
    private mutating func findEnd(
        _ bytes: UnsafeRawBufferPointer, start: Int, kind: HeadGrammar.Kind, lineLimit: Int, lineError: HeadError
    ) throws(HeadError) -> Int? {
        let count = bytes.count
        // Bytes before `scanned` hold no CR LF CR LF; one may straddle `scanned`.
        var index = max(scanned - 3, start)
        while let lineFeed = ByteScan.firstIndex(of: UInt8(ascii: "\n"), in: bytes, from: index) {
            if lineFeed - start >= 3, bytes[lineFeed - 1] == UInt8(ascii: "\r"), bytes[lineFeed - 2] == UInt8(ascii: "\n"),
                bytes[lineFeed - 3] == UInt8(ascii: "\r")
            {
                return lineFeed + 1
            }
            index = lineFeed + 1
        }
        var grammar = self.grammar ?? HeadGrammar(kind)
        index = max(scanned, start)
        while index < count {
            let byte = bytes[index]
            try grammar.feed(byte)
            if byte == UInt8(ascii: "\n") { firstLineEnded = true }
            index += 1
        }
        self.grammar = grammar
        scanned = count
        if !firstLineEnded, count - start > lineLimit { throw lineError }
        if count - start > limits.maximumHeaderBytes {
            throw .headerTooLarge("header block larger than \(limits.maximumHeaderBytes) bytes")
        }
        return nil
    }

    /// The outcome for a complete head `bytes[start..<end]`, given what the full parse made of it
    /// (`refusal`): what the head would have met first had it arrived byte by byte, so the outcome
    /// does not depend on how the bytes were split. In byte order, a byte the grammar refuses or
    /// a limit (at the same byte, the grammar first); then what only the whole head shows.
    private func decide(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, kind: HeadGrammar.Kind, refusal: HeadError?,
        lineLimit: Int, lineError: HeadError
    ) -> Outcome {
        let limit = limitMet(bytes, start: start, end: end, kind: kind, lineLimit: lineLimit, lineError: lineError)
        if refusal != nil {
            // The parse refuses every head the grammar refuses (never fewer): only then can the
            // grammar have an error to name. A cold path, so it starts over from the first byte.
            var grammar = HeadGrammar(kind)
            for index in start..<end {
                do {
                    try grammar.feed(bytes[index])
                } catch {
                    if let limit, limit.prefix < index + 1 { break }
                    return .invalid(error)
                }
            }
        }
        if let limit { return .invalid(limit.error) }
        if let refusal { return .invalid(refusal) }
        return .complete
    }

    /// The limit a head arriving byte by byte meets first, and the length of the prefix that
    /// meets it: the first line (checked while it is incomplete, and for requests once more when
    /// the head is complete) or the head (checked while incomplete and when complete).
    /// `lineEnd` is the end of the first line (after its LF) where a parse found it (a parsed first
    /// line holds no LF before its own); otherwise it is searched for.
    private func limitMet(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, lineEnd: Int? = nil, kind: HeadGrammar.Kind,
        lineLimit: Int, lineError: HeadError
    ) -> (prefix: Int, error: HeadError)? {
        let lineEnd = lineEnd ?? (ByteScan.firstIndex(of: UInt8(ascii: "\n"), in: bytes, from: start) ?? end - 1) + 1
        let lineTooLongAt = start + lineLimit + 1
        let headTooLargeAt = start + limits.maximumHeaderBytes + 1
        var line: Int? = nil
        if lineEnd > lineTooLongAt {
            line = lineTooLongAt
        } else if kind == .request, lineEnd - start > lineLimit {
            line = end
        }
        let head: Int? = end >= headTooLargeAt ? headTooLargeAt : nil
        switch (line, head) {
        case (let line?, let head?) where line <= head: return (line, lineError)
        case (let line?, nil): return (line, lineError)
        case (_, let head?):
            return (head, .headerTooLarge("header block larger than \(limits.maximumHeaderBytes) bytes"))
        case (nil, nil): return nil
        }
    }

    // MARK: Requests

    /// Parses a request head at the start of `bytes`. Leading empty lines are skipped
    /// (RFC 9112 §2.2); `head.method.lowerBound` is where the request line starts.
    /// `table` resolves the slots of the header fields the rules look at.
    public mutating func parseRequest(
        _ bytes: UnsafeRawBufferPointer, into head: inout HTTPHead, table: RuleTable? = nil
    ) -> Outcome {
        var start = 0
        while start + 1 < bytes.count, bytes[start] == UInt8(ascii: "\r"), bytes[start + 1] == UInt8(ascii: "\n") {
            start += 2
            if start > 8 { return .invalid(.malformed("too many empty lines before the request line")) }
        }
        if start < bytes.count, bytes[start] == UInt8(ascii: "\n") { return .invalid(.malformed("line ending without CR")) }
        // A CR that may begin one more empty line: wait for the byte after it.
        if start == bytes.count - 1, bytes[start] == UInt8(ascii: "\r") { return .incomplete }
        // The usual case, a whole valid head in the first read: parsed in one pass, which also
        // finds its end. Anything else (incomplete, refused, over a limit) takes the path that
        // resumes as bytes arrive and names errors as the byte grammar does. Only on the first
        // read of a message, so a head trickling in is never parsed from the start again.
        if grammar == nil, let (end, lineEnd) = try? parseWholeRequest(bytes, start: start, into: &head, table: table),
            limitMet(bytes, start: start, end: end, lineEnd: lineEnd, kind: .request,
                lineLimit: limits.maximumRequestLine, lineError: .requestLineTooLong) == nil
        {
            return .complete
        }
        let end: Int
        do {
            guard let found = try findEnd(
                bytes, start: start, kind: .request, lineLimit: limits.maximumRequestLine,
                lineError: .requestLineTooLong)
            else { return .incomplete }
            end = found
        } catch {
            return .invalid(error)
        }
        var refusal: HeadError? = nil
        do {
            // Ends where `findEnd` found the end: the first empty line.
            _ = try parseWholeRequest(bytes, start: start, into: &head, table: table)
        } catch {
            refusal = error
        }
        head.length = end
        return decide(
            bytes, start: start, end: end, kind: .request, refusal: refusal, lineLimit: limits.maximumRequestLine,
            lineError: .requestLineTooLong)
    }

    /// Parses and checks a request head starting at `start`; returns where it ends and where its
    /// first line ends. Throws on anything invalid, and when the bytes end before the head does.
    private mutating func parseWholeRequest(
        _ bytes: UnsafeRawBufferPointer, start: Int, into head: inout HTTPHead, table: RuleTable?
    ) throws(HeadError) -> (end: Int, lineEnd: Int) {
        head.reset()
        let lineEnd = try parseRequestLine(bytes, from: start, into: &head)
        let end = try parseFields(bytes, from: lineEnd, into: &head, table: table)
        head.length = end
        try validateRequest(&head)
        return (end, lineEnd)
    }

    /// `method SP request-target SP HTTP-version CRLF`; returns where the next line starts.
    private func parseRequestLine(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into head: inout HTTPHead
    ) throws(HeadError) -> Int {
        var index = start
        while index < bytes.count, HTTPToken.isTokenCharacter(bytes[index]) { index += 1 }
        guard index > start else { throw .malformed("invalid method") }
        guard index < bytes.count else { throw Self.endsEarly }
        guard bytes[index] == UInt8(ascii: " ") else { throw .malformed("invalid character in method") }
        head.method = Int32(start)..<Int32(index)
        index += 1
        let targetStart = index
        index = ByteScan.endOfTargetRun(in: bytes, from: index)
        guard index < bytes.count else { throw Self.endsEarly }
        guard index > targetStart else { throw .malformed("missing request target") }
        guard bytes[index] == UInt8(ascii: " ") else { throw .malformed("invalid character in request target") }
        try checkTargetForm(UnsafeRawBufferPointer(rebasing: bytes[targetStart..<index]))
        head.target = Int32(targetStart)..<Int32(index)
        index += 1
        head.version = try parseVersion(bytes, at: index)
        index += 8
        guard index + 1 < bytes.count else { throw Self.endsEarly }
        guard bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") else {
            throw .malformed("invalid request line")
        }
        return index + 2
    }

    /// RFC 9112 §3.2: origin-form (`/…`), asterisk-form (`*`) or absolute-form (`scheme://…`,
    /// letters only in the scheme, as llhttp reads it), never a fragment; the byte grammar's
    /// rules for a target, on a whole one (bytes 0x21–0x7E already checked).
    private func checkTargetForm(_ target: UnsafeRawBufferPointer) throws(HeadError) {
        var index = 1
        switch target[0] {
        case UInt8(ascii: "/"):
            break
        case UInt8(ascii: "*"):
            guard target.count == 1 else { throw .malformed("invalid request target") }
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            while index < target.count, isLetter(target[index]) { index += 1 }
            guard index + 3 <= target.count, target[index] == UInt8(ascii: ":"),
                target[index + 1] == UInt8(ascii: "/"), target[index + 2] == UInt8(ascii: "/")
            else { throw .malformed("invalid request target") }
            index += 3
        default:
            throw .malformed("invalid request target")
        }
        guard ByteScan.firstIndex(of: UInt8(ascii: "#"), in: target, from: index) == nil else {
            throw .malformed("invalid character in request target")
        }
    }

    /// `HTTP/1.0` or `HTTP/1.1`; other well-formed versions are 505.
    @inline(__always)
    private func parseVersion(_ bytes: UnsafeRawBufferPointer, at index: Int) throws(HeadError) -> HTTPHead.Version {
        guard index + 8 <= bytes.count else { throw .malformed("invalid HTTP version") }
        // The two versions there are, as one eight-byte word each; anything else byte by byte.
        let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        if word == Self.http11Word { return .http11 }
        if word == Self.http10Word { return .http10 }
        guard bytes[index] == UInt8(ascii: "H"), bytes[index + 1] == UInt8(ascii: "T"),
            bytes[index + 2] == UInt8(ascii: "T"), bytes[index + 3] == UInt8(ascii: "P"),
            bytes[index + 4] == UInt8(ascii: "/"), isDigit(bytes[index + 5]), bytes[index + 6] == UInt8(ascii: "."),
            isDigit(bytes[index + 7])
        else { throw .malformed("invalid HTTP version") }
        guard bytes[index + 5] == UInt8(ascii: "1") else { throw .versionNotSupported }
        switch bytes[index + 7] {
        case UInt8(ascii: "1"): return .http11
        case UInt8(ascii: "0"): return .http10
        default: throw .versionNotSupported
        }
    }

    /// `HTTP/1.1` and `HTTP/1.0` as loaded from memory (little-endian: the first byte lowest).
    private static let http11Word = UInt64(littleEndian: 0x312E_312F_5054_5448)
    private static let http10Word = UInt64(littleEndian: 0x302E_312F_5054_5448)

    private func validateRequest(_ head: inout HTTPHead) throws(HeadError) {
        if head.version == .http11, head.hostCount != 1 {
            throw .malformed(head.hostCount == 0 ? "missing Host header" : "more than one Host header")
        }
        if head.hostCount > 1 { throw .malformed("more than one Host header") }
        if head.hasTransferEncoding {
            guard head.version == .http11 else { throw .malformed("Transfer-Encoding in an HTTP/1.0 request") }
            guard head.contentLength == nil else { throw .malformed("both Content-Length and Transfer-Encoding") }
            // RFC 9112 §6.3: without chunked last, the request's length cannot be known.
            guard head.chunked else { throw .malformed("Transfer-Encoding does not end with chunked") }
        }
    }

    // MARK: Responses

    /// Parses a response head from an upstream. Any problem is `.invalid` (attache answers 502).
    public mutating func parseResponse(_ bytes: UnsafeRawBufferPointer, into head: inout HTTPHead) -> Outcome {
        // As for requests: one pass for a whole valid head in the first read.
        if grammar == nil, let (end, lineEnd) = try? parseWholeResponse(bytes, into: &head),
            limitMet(bytes, start: 0, end: end, lineEnd: lineEnd, kind: .response,
                lineLimit: limits.maximumHeaderBytes, lineError: .headerTooLarge("status line too long")) == nil
        {
            return .complete
        }
        let end: Int
        do {
            guard let found = try findEnd(
                bytes, start: 0, kind: .response, lineLimit: limits.maximumHeaderBytes,
                lineError: .headerTooLarge("status line too long"))
            else { return .incomplete }
            end = found
        } catch {
            return .invalid(error)
        }
        var refusal: HeadError? = nil
        do {
            _ = try parseWholeResponse(bytes, into: &head)
        } catch {
            refusal = error
        }
        head.length = end
        return decide(
            bytes, start: 0, end: end, kind: .response, refusal: refusal, lineLimit: limits.maximumHeaderBytes,
            lineError: .headerTooLarge("status line too long"))
    }

    /// Parses and checks a response head; returns where it ends and where its first line ends.
    /// Throws on anything invalid, and when the bytes end before the head does.
    private mutating func parseWholeResponse(
        _ bytes: UnsafeRawBufferPointer, into head: inout HTTPHead
    ) throws(HeadError) -> (end: Int, lineEnd: Int) {
        head.reset()
        let lineEnd = try parseStatusLine(bytes, into: &head)
        let end = try parseFields(bytes, from: lineEnd, into: &head, table: nil)
        head.length = end
        if head.hasTransferEncoding, head.contentLength != nil {
            throw HeadError.malformed("both Content-Length and Transfer-Encoding")
        }
        // An interim response is always followed by the final one on the same connection.
        if head.status < 200, head.status != 101, !head.keepsAlive {
            throw HeadError.malformed("interim response that ends the connection")
        }
        return (end, lineEnd)
    }

    /// `HTTP-version SP 3DIGIT SP reason CRLF` (the space before an empty reason may be missing).
    private func parseStatusLine(_ bytes: UnsafeRawBufferPointer, into head: inout HTTPHead) throws(HeadError) -> Int {
        head.version = try parseVersion(bytes, at: 0)
        guard bytes.count > 12, bytes[8] == UInt8(ascii: " "), isDigit(bytes[9]), isDigit(bytes[10]), isDigit(bytes[11])
        else { throw .malformed("invalid status line") }
        head.status = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
        guard (100...599).contains(head.status) else { throw .malformed("status \(head.status) out of range") }
        guard bytes[12] == UInt8(ascii: " ") || bytes[12] == UInt8(ascii: "\r") else {
            throw .malformed("invalid status code")
        }
        var index = 12
        if bytes[index] == UInt8(ascii: " ") { index += 1 }
        let reasonStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\r") {
            guard isFieldValueByte(bytes[index]) else { throw .malformed("invalid character in reason phrase") }
            index += 1
        }
        guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") else {
            throw .malformed("invalid status line")
        }
        head.reason = Int32(reasonStart)..<Int32(index)
        return index + 2
    }

    // MARK: Fields

    /// Field lines from `start` to the empty line; returns where the head ends (after it).
    private mutating func parseFields(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into head: inout HTTPHead, table: RuleTable?
    ) throws(HeadError) -> Int {
        // Fields are gathered on the stack and added to the head's array a batch at a time: an
        // append per field checked the array's uniqueness and capacity each time.
        try withUnsafeTemporaryAllocation(of: HTTPHead.Field.self, capacity: Self.batchSize) {
            (batch) throws(HeadError) -> Int in
            try parseFields(bytes, from: start, into: &head, table: table, batch: batch.baseAddress!)
        }
    }

    /// Fields gathered before they are added to the head together (a stack buffer of 512 bytes).
    private static let batchSize = 16

    @inline(__always)
    private mutating func parseFields(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into head: inout HTTPHead, table: RuleTable?,
        batch: UnsafeMutablePointer<HTTPHead.Field>
    ) throws(HeadError) -> Int {
        connectionTokens.removeAllKeepingCapacity()
        var index = start
        let count = bytes.count
        precondition(count <= Int(Int32.max), "a head's offsets are 32-bit")
        guard let base = bytes.baseAddress else { throw Self.endsEarly }
        var gathered = 0
        var allowed = limits.maximumFields - head.fieldCount
        // Looked up once per head: a call per field retained and released the table.
        let slots = table.flatMap { $0.readsRequestHeaders ? $0 : nil }
        while true {
            guard index + 1 < count else { throw Self.endsEarly }
            let lineStart = index
            let first = bytes[index]
            if first == UInt8(ascii: "\r") {
                guard bytes[index + 1] == UInt8(ascii: "\n") else { throw .malformed("CR without LF") }
                break
            }
            if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                throw .malformed("obsolete line folding")
            }
            index = ByteScan.endOfNameRun(in: bytes, from: index)
            // Usually the colon, checked once; otherwise other token characters may go on.
            if index >= count || bytes[index] != UInt8(ascii: ":") {
                while index < count, HTTPToken.isTokenCharacter(bytes[index]) { index &+= 1 }
                guard index < count else { throw Self.endsEarly }
                guard bytes[index] == UInt8(ascii: ":") else {
                    if bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                        throw .malformed("whitespace between header field name and colon")
                    }
                    throw .malformed("invalid character in header field name")
                }
            }
            let nameEnd = index
            guard nameEnd > lineStart else { throw .malformed("invalid header field name") }
            // Offsets stay below `count` (at most Int32.max): no overflow checks from here on.
            index &+= 1
            while index < count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index &+= 1 }
            let valueStart = index
            // Tabs are the only control character a value may hold: skip runs between them.
            while true {
                index = ByteScan.endOfPlainRun(in: bytes, from: index)
                guard index &+ 1 < count else { throw Self.endsEarly }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\t") {
                    index &+= 1
                    continue
                }
                guard byte == UInt8(ascii: "\r") else { throw .malformed("invalid character in header field value") }
                guard bytes[index &+ 1] == UInt8(ascii: "\n") else { throw .malformed("CR in header field value") }
                break
            }
            var valueEnd = index
            while valueEnd > valueStart,
                bytes[valueEnd &- 1] == UInt8(ascii: " ") || bytes[valueEnd &- 1] == UInt8(ascii: "\t")
            {
                valueEnd &-= 1
            }
            index &+= 2
            guard allowed > 0 else {
                throw .headerTooLarge("more than \(limits.maximumFields) header fields")
            }
            allowed -= 1
            // In order by construction (line start ≤ name end < value start ≤ value end ≤ line
            // end) and within Int32 (checked once per head above): no per-field traps.
            var field = HTTPHead.Field(
                name: Self.offsets(lineStart, nameEnd), value: Self.offsets(valueStart, valueEnd),
                line: Self.offsets(lineStart, index), flags: [], slot: -1)
            let name = UnsafeRawBufferPointer(start: base + lineStart, count: nameEnd &- lineStart)
            let value = UnsafeRawBufferPointer(start: base + valueStart, count: valueEnd &- valueStart)
            let known = KnownField(name)
            if known == .host {
                // In every request: not worth a call.
                head.hostCount &+= 1
                head.host = field.value
            } else if known != .other {
                // Out of line: the loop that most fields take stays small enough for registers.
                let trailing = UnsafeRawBufferPointer(start: base + valueEnd, count: index &- 2 &- valueEnd)
                try noteKnownField(known, value: value, at: valueStart, trailing: trailing, flags: &field.flags, into: &head)
            }
            if let slots, let slot = slots.requestHeaderSlot(name) { field.slot = Int32(slot) }
            (batch + gathered).initialize(to: field)
            gathered += 1
            if gathered == Self.batchSize {
                head.appendFields(UnsafeBufferPointer(start: batch, count: gathered))
                gathered = 0
            }
        }
        if gathered > 0 { head.appendFields(UnsafeBufferPointer(start: batch, count: gathered)) }
        head.fieldsEnd = index
        if !connectionTokens.isEmpty { markListedFields(bytes, &head) }
        return index + 2
    }

    /// What a field framing or forwarding cares about says, noted in `head` and the field's
    /// `flags`. `head` was reset before its fields were parsed, so its framing facts say whether
    /// a field was seen already. `trailing` is the whitespace between the value and the CR LF.
    @inline(never)
    private mutating func noteKnownField(
        _ known: KnownField, value: UnsafeRawBufferPointer, at valueStart: Int, trailing: UnsafeRawBufferPointer,
        flags: inout HTTPHead.Flags, into head: inout HTTPHead
    ) throws(HeadError) {
        switch known {
        case .contentLength:
            guard head.contentLength == nil else { throw .malformed("more than one Content-Length") }
            // Only spaces may follow the digits: llhttp refuses a tab there, and a framing field
            // is the last place to be more lenient than the parser next in line.
            if trailing.contains(UInt8(ascii: "\t")) { throw .malformed("invalid Content-Length") }
            head.contentLength = try parseContentLength(value)
            flags.insert(.contentLength)
        case .transferEncoding:
            guard !head.hasTransferEncoding else { throw .malformed("more than one Transfer-Encoding") }
            head.hasTransferEncoding = true
            head.chunked = try finalCodingIsChunked(value)
            flags.formUnion([.transferEncoding, .hopByHop])
            head.hopByHopCount += 1
        case .connection:
            flags.insert(.hopByHop)
            head.hopByHopCount += 1
            // The usual values, whole (the value comes without surrounding whitespace): one
            // comparison here instead of a call and the token loop.
            if equalsIgnoringCase(value, "keep-alive") {
                head.connectionKeepAlive = true
            } else if equalsIgnoringCase(value, "close") {
                head.connectionClose = true
            } else {
                try readConnection(value, offset: valueStart, into: &head)
            }
        case .keepAlive, .proxyConnection, .te, .trailer:
            flags.insert(.hopByHop)
            head.hopByHopCount += 1
        case .upgrade:
            flags.formUnion([.upgrade, .hopByHop])
            head.hopByHopCount += 1
        case .expect:
            flags.insert(.expect)
            if equalsIgnoringCase(value, "100-continue") { head.expectContinue = true } else { head.expectOther = true }
        case .forwardedFor:
            flags.insert(.forwardedFor)
        case .forwardedProto:
            flags.insert(.forwardedProto)
        case .host, .other:
            // Host is noted in the field loop; other fields say nothing here.
            break
        }
    }

    /// A range of head offsets known to be ordered and below 2³¹.
    @inline(__always)
    private static func offsets(_ lower: Int, _ upper: Int) -> Range<Int32> {
        Range(uncheckedBounds: (Int32(truncatingIfNeeded: lower), Int32(truncatingIfNeeded: upper)))
    }

    /// The bytes ended inside the head (only the one-pass path meets this: it does not know
    /// where the head ends).
    private static let endsEarly = HeadError.malformed("head ends early")

    /// Fields named in Connection are hop-by-hop too (RFC 9110 §7.6.1), except the ones that
    /// frame the message: a client must not be able to strip the Content-Length the upstream
    /// needs to find the end of the body.
    private func markListedFields(_ bytes: UnsafeRawBufferPointer, _ head: inout HTTPHead) {
        for index in head.fields.indices {
            let field = head.fields[index]
            if field.flags.contains(.contentLength) || field.flags.contains(.transferEncoding) { continue }
            let name = UnsafeRawBufferPointer(rebasing: bytes[Int(field.name.lowerBound)..<Int(field.name.upperBound)])
            if KnownField(name) == .host { continue }
            for token in connectionTokens {
                let listed = UnsafeRawBufferPointer(rebasing: bytes[Int(token.lowerBound)..<Int(token.upperBound)])
                if equalsIgnoringCase(name, listed) {
                    if !field.flags.contains(.hopByHop) { head.hopByHopCount += 1 }
                    head.insertFlags(.hopByHop, atField: index)
                    break
                }
            }
        }
    }

    /// Connection: a comma-separated list of tokens; `close`, `keep-alive` and `upgrade` set
    /// flags, any other token names a field to drop.
    private mutating func readConnection(
        _ value: UnsafeRawBufferPointer, offset: Int, into head: inout HTTPHead
    ) throws(HeadError) {
        var index = 0
        while index < value.count {
            while index < value.count, value[index] == UInt8(ascii: " ") || value[index] == UInt8(ascii: "\t")
                || value[index] == UInt8(ascii: ",")
            {
                index += 1
            }
            let start = index
            while index < value.count, HTTPToken.isTokenCharacter(value[index]) { index += 1 }
            if index == start {
                if index < value.count { throw .malformed("invalid Connection header") }
                break
            }
            let token = UnsafeRawBufferPointer(rebasing: value[start..<index])
            if equalsIgnoringCase(token, "close") {
                head.connectionClose = true
            } else if equalsIgnoringCase(token, "keep-alive") {
                head.connectionKeepAlive = true
            } else if equalsIgnoringCase(token, "upgrade") {
                head.connectionUpgrade = true
            } else {
                connectionTokens.append(Int32(offset + start)..<Int32(offset + index))
            }
        }
    }

    /// Content-Length: 1 to 18 digits (RFC 9110 §8.6); lists, signs and spaces are refused.
    private func parseContentLength(_ value: UnsafeRawBufferPointer) throws(HeadError) -> Int64 {
        guard !value.isEmpty, value.count <= 18 else { throw .malformed("invalid Content-Length") }
        var result: Int64 = 0
        for byte in value {
            guard isDigit(byte) else { throw .malformed("invalid Content-Length") }
            result = result * 10 + Int64(byte - 48)
        }
        return result
    }

    /// Whether the last coding of Transfer-Encoding is `chunked`. Codings other than chunked
    /// cannot be framed by attache: `gzip, chunked` is 501, and a list not ending in chunked is
    /// reported as such so the caller can apply RFC 9112 §6.3 (400 for requests).
    private func finalCodingIsChunked(_ value: UnsafeRawBufferPointer) throws(HeadError) -> Bool {
        guard !value.isEmpty else { throw .malformed("empty Transfer-Encoding") }
        if equalsIgnoringCase(value, "chunked") { return true }
        // Find the last non-empty list element.
        var end = value.count
        while end > 0, value[end - 1] == UInt8(ascii: " ") || value[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        var start = end
        while start > 0, value[start - 1] != UInt8(ascii: ",") { start -= 1 }
        var first = start
        while first < end, value[first] == UInt8(ascii: " ") || value[first] == UInt8(ascii: "\t") { first += 1 }
        let last = UnsafeRawBufferPointer(rebasing: value[first..<end])
        if equalsIgnoringCase(last, "chunked") { throw .transferCodingNotImplemented }
        return false
    }
}

// MARK: Byte classes

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

/// VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
@inline(__always)
func isFieldValueByte(_ byte: UInt8) -> Bool {
    byte >= 0x20 ? byte != 0x7F : byte == 0x09
}

@inline(__always)
func isLetter(_ byte: UInt8) -> Bool {
    lowercased(byte) >= UInt8(ascii: "a") && lowercased(byte) <= UInt8(ascii: "z")
}

@inline(__always)
func lowercased(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}

func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer) -> Bool {
    guard bytes.count == other.count else { return false }
    for index in 0..<bytes.count where lowercased(bytes[index]) != lowercased(other[index]) { return false }
    return true
}

/// Compares with an ASCII literal, case-sensitively.
func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    guard bytes.count == literal.utf8CodeUnitCount else { return false }
    for index in 0..<bytes.count where bytes[index] != literal.utf8Start[index] { return false }
    return true
}

/// Compares field-name or field-value bytes (already checked: token characters, or VCHAR,
/// obs-text, SP and HTAB) with a literal of lower-case letters, digits and "-", ignoring case,
/// a word at a time with overlapping loads.
///
/// Folds by setting bit 0x20 of every byte, one OR per word where lower-casing a word took a
/// dozen operations: the literal's bytes all have that bit, so a byte matches exactly when it is
/// the literal's byte or that byte without 0x20. For a letter that is its capital; for a digit or
/// "-" a control character (0x10–0x19, CR), which checked bytes never hold.
@inline(__always)
func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    let count = literal.utf8CodeUnitCount
    guard bytes.count == count else { return false }
    guard count > 0 else { return true }
    let base = bytes.baseAddress!
    let pointer = UnsafeRawPointer(literal.utf8Start)
    @inline(__always)
    func equal<Word: FixedWidthInteger>(_ type: Word.Type, at offset: Int) -> Bool {
        base.loadUnaligned(fromByteOffset: offset, as: Word.self) | Word(truncatingIfNeeded: 0x2020_2020_2020_2020 as UInt64)
            == pointer.loadUnaligned(fromByteOffset: offset, as: Word.self)
    }
    switch count {
    case 1: return equal(UInt8.self, at: 0)
    case 2...3: return equal(UInt16.self, at: 0) && equal(UInt16.self, at: count &- 2)
    case 4...7: return equal(UInt32.self, at: 0) && equal(UInt32.self, at: count &- 4)
    default:
        var index = 0
        while true {
            guard equal(UInt64.self, at: index) else { return false }
            if index == count &- 8 { return true }
            index = min(index &+ 8, count &- 8)
        }
    }
}
