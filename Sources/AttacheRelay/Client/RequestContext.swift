import AttacheRules
import NIOCore

/// Template values for one exchange, read straight from the bytes of the request head (and the
/// upstream's response head, when there is one). Valid only while those bytes are borrowed.
///
/// The exchange and the loop are read through when a template asks, not copied in: a context
/// is made for every replaced response and every logged exchange, and copying the head and the
/// strings it may need cost a retain and a release each.
struct RequestContext: TemplateContext {
    /// Held by the caller for as long as the context lives (it never escapes `withRequestContext`).
    unowned(unsafe) let exchange: Exchange
    unowned(unsafe) let loop: LoopState
    /// The client connection's handler, lent like the exchange: its address is read from it
    /// when a template or log line asks (a copy of the string cost a retain and a release).
    unowned(unsafe) let client: ClientHandler
    var bytes: UnsafeRawBufferPointer
    /// The normalized path (may point into `bytes` or into scratch memory).
    var path: UnsafeRawBufferPointer
    var status: Int?
    var origin: Origin?
    /// The upstream's response head, lent for the call like the exchange (the head is large:
    /// held as a value, it was copied twice per replaced response).
    var responseHead: UnsafePointer<HTTPHead>?
    var responseBytes: UnsafeRawBufferPointer?
    /// Set when the exchange is finished; until then a template that asks gets the time so far
    /// (read from the clock only then: most responses a rule sends never ask).
    var durationNanoseconds: Int64?
    /// Set when the exchange is finished; until then, from the exchange's first response byte.
    var upstreamNanoseconds: Int64?

    var clientAddress: String { client.clientAddress }
    /// The rule whose template renders, lent by the caller (its name copied in cost a retain and
    /// a release).
    unowned(unsafe) var rule: Rule?
    /// `path.NAME` values of the rule's path pattern; `nil` when it captures nothing (an empty
    /// dictionary made for every context cost a call).
    var captures: [String: String]?

    func appendValue(of variable: TemplateVariable, to output: inout [UInt8]) -> Bool {
        switch variable {
        case .requestMethod:
            output.append(contentsOf: slice(bytes, exchange.head.method))
        case .requestPath:
            output.append(contentsOf: path)
        case .requestQuery:
            let target = slice(bytes, exchange.head.target)
            guard let mark = target.firstIndex(of: UInt8(ascii: "?")) else { return false }
            output.append(contentsOf: target[(mark + 1)...])
        case .requestTarget:
            output.append(contentsOf: slice(bytes, exchange.head.target))
        case .requestHost:
            guard let host = exchange.head.host else { return false }
            output.append(contentsOf: slice(bytes, host))
        case .requestID:
            loop.requestID(exchange.requestNumber).write(into: &output)
        case .requestHeader(let name, _):
            return RequestContext.appendField(named: name, of: exchange.head, in: bytes, to: &output)
        case .clientIP:
            output.append(contentsOf: clientAddress.utf8)
        case .responseStatus:
            guard let status else { return false }
            ValueFormatting.appendDecimal(status, to: &output)
        case .responseReason:
            guard let status else { return false }
            output.append(contentsOf: HTTPReason.phrase(status).utf8)
        case .responseOrigin:
            guard let origin else { return false }
            output.append(contentsOf: origin.rawValue.utf8)
        case .responseRule:
            guard let respondingRule = exchange.respondingRule else { return false }
            output.append(contentsOf: respondingRule.utf8)
        case .responseHeader(let name, _):
            guard let responseHead, let responseBytes else { return false }
            return RequestContext.appendField(named: name, of: responseHead.pointee, in: responseBytes, to: &output)
        case .durationMilliseconds:
            let duration = durationNanoseconds ?? (NIODeadline.now() - exchange.start).nanoseconds
            ValueFormatting.appendMilliseconds(nanoseconds: duration, to: &output)
        case .upstreamMilliseconds:
            guard let upstream = upstreamNanoseconds ?? exchange.firstResponseByte.map({ ($0 - exchange.start).nanoseconds })
            else { return false }
            ValueFormatting.appendMilliseconds(nanoseconds: upstream, to: &output)
        case .ruleName:
            guard let rule else { return false }
            output.append(contentsOf: rule.name.utf8)
        case .pathCapture(let name):
            guard let value = captures?[name] else { return false }
            output.append(contentsOf: value.utf8)
        case .timeHTTP:
            ValueFormatting.appendHTTPDate(epochSeconds: SystemClock.now().seconds, to: &output)
        case .timeISO:
            let now = SystemClock.now()
            ValueFormatting.appendISODate(epochSeconds: now.seconds, nanoseconds: now.nanoseconds, to: &output)
        case .hostName:
            output.append(contentsOf: loop.hostName.utf8)
        case .upstreamAddress:
            output.append(contentsOf: loop.upstreamAuthority.utf8)
        }
        return true
    }

    /// Appends every value of a field (case-insensitive name), joined with ", ".
    static func appendField(
        named name: String, of head: HTTPHead, in bytes: UnsafeRawBufferPointer, to output: inout [UInt8]
    ) -> Bool {
        var found = false
        let wanted = Array(name.utf8)
        for field in head.fields where field.name.count == wanted.count {
            let fieldName = slice(bytes, field.name)
            guard wanted.withUnsafeBytes({ equalsIgnoringCase(fieldName, $0) }) else { continue }
            if found { output.append(contentsOf: ", ".utf8) }
            output.append(contentsOf: slice(bytes, field.value))
            found = true
        }
        return found
    }
}

@inline(__always)
func slice(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int32>) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: bytes[Int(range.lowerBound)..<Int(range.upperBound)])
}
