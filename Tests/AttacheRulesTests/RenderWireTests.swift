import Testing

@testable import AttacheRules

/// `renderWire` (the relay's allocation-free path) writes exactly the bytes of `render` then
/// `serialized`, with the extra header lines before the empty line, for every kind of template.
@Suite struct RenderWireTests {
    static let rules = """
        templates:
          page:
            status: 404
            headers: { content-type: text/html, x-path: "{{ request.path }}", x-agent: "{{ request.header.user-agent }}" }
            body: "<p>{{ request.method }} {{ request.path }} is not here</p>"
        rules:
          - name: page
            when: { path: /p }
            respond: page
          - name: keep-status
            when: { status: 5xx }
            respond: { headers: { content-type: application/json }, body: '{"s": {{ response.status }}, "id": "{{ request.id }}"}' }
          - name: empty
            when: { path: /e }
            respond: { status: 204 }
          - name: plain
            when: { path: /t }
            respond: { status: 299, body: "no reason phrase for this one" }
        """

    var facts: ExchangeFacts {
        var facts = ExchangeFacts(
            method: "GET", target: "/p/<x>", requestHeaders: [("User-Agent", "curl/8 \"q\"")], epochSeconds: 1)
        facts.requestID = "r-1"
        facts.status = 503
        return facts
    }

    @Test(arguments: [nil, "Connection: close\r\n" as StaticString], [true, false])
    func sameBytesAsRenderThenSerialize(_ extra: StaticString?, _ includeBody: Bool) throws {
        let table = try #require(RuleLoader().load(text: Self.rules).table)
        var output: [UInt8] = [0xFF]  // the renderer appends
        var body: [UInt8] = Array("stale".utf8)
        var scratch: [UInt8] = []
        for rule in table.rules {
            let template = try #require(rule.respond)
            let matched: Int? = rule.name == "keep-status" ? 503 : nil
            output = []
            let status = template.renderWire(
                facts, matchedStatus: matched, extraHeaders: extra, includeBody: includeBody, into: &output,
                body: &body, scratch: &scratch)
            let rendered = template.render(facts, matchedStatus: matched)
            var expected = rendered.serialized(includeBody: false)
            expected.removeLast(2)
            if let extra { expected += Array(UnsafeBufferPointer(start: extra.utf8Start, count: extra.utf8CodeUnitCount)) }
            expected += Array("\r\n".utf8)
            if includeBody { expected += rendered.body }
            #expect(status == rendered.status)
            #expect(String(decoding: output, as: UTF8.self) == String(decoding: expected, as: UTF8.self), "\(rule.name)")
        }
    }
}
