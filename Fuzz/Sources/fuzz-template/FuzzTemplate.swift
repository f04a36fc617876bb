import AttacheRules

/// libFuzzer entry point: the template parser and renderer. The first byte picks where the
/// template is used (HTML, JSON or plain body, header value, log line, record key); the rest is
/// its text. A template that compiles is rendered against hostile requests, and the output must
/// keep the promises of its use: a header value holds no control character but HTAB; an HTML
/// body holds no more of `< > " '` than the template's own text, a JSON body or log line no more
/// control characters, so nothing a client sent can add markup or break a string.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let uses: [TemplateUse] = [.body(.html), .body(.json), .body(.none), .headerValue, .logLine, .key]
    let use = uses[Int(data[0]) % uses.count]
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    guard let template = try? Template.compile(text, use: use) else { return 0 }
    let textControls = controlCount(Array(text.utf8))
    let textMarkup = markupCount(Array(text.utf8))
    let raw = text.contains("raw")
    for facts in HostileFacts.all {
        let output = Array(template.render(facts).utf8)
        switch use {
        case .headerValue:
            if let byte = output.first(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                fatalError("control byte \(byte) in a header value rendered from \(text.debugDescription)")
            }
        case .body(.html) where !raw:
            if markupCount(output) > textMarkup {
                fatalError("unescaped value in HTML rendered from \(text.debugDescription): \(output)")
            }
        case .body(.json) where !raw, .logLine where !raw:
            if controlCount(output) > textControls {
                fatalError("raw control character rendered from \(text.debugDescription): \(output)")
            }
        default:
            break
        }
    }
    return 0
}

func markupCount(_ bytes: [UInt8]) -> Int {
    bytes.count { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }
}

func controlCount(_ bytes: [UInt8]) -> Int {
    bytes.count { $0 < 0x20 || $0 == 0x7F }
}

enum HostileFacts {
    static let all: [ExchangeFacts] = {
        var first = ExchangeFacts(
            method: "GET", target: "/a/<b>/\"c\"?q=<script>&x=\u{1}",
            requestHeaders: [
                ("User-Agent", "ua\r\nX-Evil: 1"), ("X-A", "<img src=x>\u{0}\u{7F}"), ("Cookie", "s=\u{2028}\\\""),
            ],
            epochSeconds: 1_795_651_200)
        first.status = 404
        first.reason = "Not\r\nFound"
        first.origin = .upstream
        first.responseHeaders = [("Content-Type", "text/html\n<x>"), ("X-R", "\u{1B}[31m")]
        first.durationNanoseconds = 1_234_567
        first.upstreamNanoseconds = 999
        first.captures = ["id": "<\n>", "rest": "a\tb"]
        first.clientIP = "203.0.113.9"
        first.hostName = "pod\r\n"
        var second = ExchangeFacts(method: "PURGE", target: "*", epochSeconds: 0)
        second.origin = .proxy
        second.status = 502
        let third = ExchangeFacts(
            method: "POST", target: "/" + String(repeating: "%0d%0a", count: 50),
            requestHeaders: [("X-Request-Id", String(repeating: "\u{FFFD}\u{1}", count: 100))], epochSeconds: -1)
        return [first, second, third]
    }()
}
