import Testing

@testable import AttacheRules

/// `renderWire` (the relay's allocation-free path) writes exactly the bytes of `render` then
/// `serialized`, with the extra header lines before the empty line and the body into an array of
/// its own, for every kind of template.
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
          - name: mixed-headers
            when: { status: 4xx }
            respond:
              headers:
                x-a: "{{ request.method }}"
                content-type: text/html
                x-c: "two\tthree"
                x-d: "{{ request.path | upper }}"
                x-e: '{{ "{{" }}'
                x-f: four
              body: "{{ request.header.user-agent }} <{{ request.path | raw }}> {{ request.method }}"
          - name: constant-headers-kept-status
            when: { status: 503 }
            respond: { headers: { x-one: "1", x-two: "2" }, body: "&" }
        """

    var facts: ExchangeFacts {
        var facts = ExchangeFacts(
            method: "GET", target: "/p/<x>", requestHeaders: [("User-Agent", "curl/8 \"q\"")], epochSeconds: 1)
        facts.requestID = "r-1"
        facts.status = 503
        return facts
    }

    @Test(arguments: [nil, "Connection: close\r\n" as StaticString])
    func sameBytesAsRenderThenSerialize(_ extra: StaticString?) throws {
        let table = try #require(RuleLoader().load(text: Self.rules).table)
        var output: [UInt8] = [0xFF]  // the renderer appends
        var body: [UInt8] = Array("stale".utf8)  // the renderer empties it first
        var scratch: [UInt8] = []
        for rule in table.rules {
            let template = try #require(rule.respond)
            let matched: Int? = rule.phase == .response ? 503 : nil
            output = []
            let status = template.renderWire(
                facts, matchedStatus: matched, extraHeaders: extra, into: &output, body: &body, scratch: &scratch)
            let rendered = template.render(facts, matchedStatus: matched)
            var expected = rendered.serialized(includeBody: false)
            expected.removeLast(2)
            if let extra { expected += Array(UnsafeBufferPointer(start: extra.utf8Start, count: extra.utf8CodeUnitCount)) }
            expected += Array("\r\n".utf8)
            #expect(status == rendered.status)
            #expect(String(decoding: output, as: UTF8.self) == String(decoding: expected, as: UTF8.self), "\(rule.name)")
            #expect(body == rendered.body, "\(rule.name)")
        }
    }

    /// Constant header lines are made when the rules compile, around the values rendered per
    /// exchange: the exact bytes, in the template's order.
    @Test func constantHeadersKeepTheirPlace() throws {
        let table = try #require(RuleLoader().load(text: Self.rules).table)
        let template = try #require(table.rules.first { $0.name == "mixed-headers" }?.respond)
        var output: [UInt8] = []
        var body: [UInt8] = []
        var scratch: [UInt8] = []
        let status = template.renderWire(
            facts, matchedStatus: 404, extraHeaders: nil, into: &output, body: &body, scratch: &scratch)
        #expect(status == 404)
        #expect(
            String(decoding: output, as: UTF8.self)
                == "HTTP/1.1 404 Not Found\r\nx-a: GET\r\ncontent-type: text/html\r\nx-c: two\tthree\r\nx-d: /P/<X>\r\n"
                + "x-e: {{\r\nx-f: four\r\ncontent-length: 33\r\n\r\n")
        #expect(String(decoding: body, as: UTF8.self) == "curl/8 &quot;q&quot; </p/<x>> GET")
        #expect(template.wirePieces.count == 3)
    }
}
