import Testing

@testable import AttacheRules

@Suite struct ExplainTests {
    static let defaultRules = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

    func explain(_ table: RuleTable, _ method: String, _ target: String, status: Int?, origin: Origin = .upstream) throws
        -> String
    {
        var facts = ExchangeFacts(method: method, target: target, epochSeconds: 0)
        facts.durationNanoseconds = 1_500_000
        let explanation = try #require(Explanation(table: table, facts: facts, status: status, origin: origin))
        return explanation.text(rulesPath: "rules", digest: "0123456789abcdef")
    }

    @Test func defaultRulesShowTheFriendly404() throws {
        let outcome = RuleLoader().load(path: "/" + Self.defaultRules + "/rules/default.yaml")
        #expect(outcome.diagnostics.isEmpty)
        let table = try #require(outcome.table)
        let text = try explain(table, "GET", "/missing?x=1", status: 404)
        let expected = """
            request:  GET /missing?x=1
            rules:    rules (sha256 0123456789ab)

            request phase (before the upstream):
              no respond rule matches
              → no rule answers; the request goes to the upstream

            response phase (status 404 from upstream):
              friendly-404  responds  [/\(Self.defaultRules)/rules/default.yaml:25:5]

            response (rendered by rule 'friendly-404'):
              HTTP/1.1 404 Not Found
              content-type: text/html; charset=utf-8
              server: Sitio
              content-length: 186

              <!doctype html>
              <html lang="en">
              <head><meta charset="utf-8"><title>Endpoint Not Found</title></head>
              <body>
              <h1>Endpoint Not Found</h1>
              <p>GET /missing is not here.</p>
              </body>
              </html>

            record:
              profile: key "/missing"
            log:
              access: GET /missing 404 1.500ms
            """
        #expect(text == expected)
    }

    @Test func requestPhaseAnswerSkipsTheResponsePhase() throws {
        let table = try table("""
            rules:
              - name: maintenance
                when: { method: POST, path: /orders/** }
                respond: { status: 503, headers: { retry-after: "120" }, body: 'down for {{ request.path }}' }
              - name: later
                when: { path: /orders/** }
                respond: { status: 500 }
              - name: access
                log: "{{ request.method }} {{ response.status }} {{ response.origin }} {{ response.rule }}"
            """)
        let text = try explain(table, "POST", "/orders/7", status: nil)
        #expect(text == """
            request:  POST /orders/7
            rules:    rules (sha256 0123456789ab)

            request phase (before the upstream):
              maintenance  responds  [rules.yaml:2:5]
              later        also matches (an earlier rule wins)  [rules.yaml:5:5]

            response phase: skipped (the request phase answered)

            response (rendered by rule 'maintenance'):
              HTTP/1.1 503 Service Unavailable
              retry-after: 120
              content-type: text/plain; charset=utf-8
              content-length: 18

              down for /orders/7

            record:
              (none)
            log:
              access: POST 503 proxy maintenance
            """)
    }

    @Test func passThroughWithAssumedStatus() throws {
        let table = try table("rules:\n  - { name: gone, when: { status: 404 }, respond: { status: 410 } }\n")
        let text = try explain(table, "HEAD", "/x", status: nil)
        #expect(text == """
            request:  HEAD /x
            rules:    rules (sha256 0123456789ab)

            request phase (before the upstream):
              no respond rule matches
              → no rule answers; the request goes to the upstream

            response phase (status 200 from upstream; assumed, pass --status to choose):
              no respond rule matches
              → no rule replaces it; the upstream's response passes through

            response: 200 from the upstream, passed through unchanged

            record:
              (none)
            log:
              (none)
            """)
    }

    /// `explain` renders a request-phase answer as the relay does: the response variables have
    /// no value (lint's A204), though the facts it runs on hold a duration and an upstream.
    @Test func requestPhaseAnswerHasNoResponseVariables() throws {
        let table = try table("""
            rules:
              - name: maintenance
                when: { path: /orders/** }
                respond:
                  status: 503
                  body: "{{ rule.name }}|{{ response.rule }}|{{ response.origin }}|{{ duration.ms }}|\
            {{ upstream.address | default('none') }}|{{ request.path }}"
            """)
        var facts = ExchangeFacts(method: "GET", target: "/orders/7", epochSeconds: 0)
        facts.durationNanoseconds = 1_500_000
        facts.upstreamAddress = "upstream"
        let explanation = try #require(Explanation(table: table, facts: facts, status: nil, origin: .upstream))
        #expect(explanation.response.map { String(decoding: $0.body, as: UTF8.self) } == "maintenance||||none|/orders/7")
        #expect(explanation.finalStatus == 503)
    }

    /// A named template serving a request-phase rule and a response-phase rule keeps its
    /// response variables for the second: only the request-phase rule's copy drops them.
    @Test func sharedTemplateKeepsResponseVariablesInTheResponsePhase() throws {
        let table = try table("""
            templates:
              page: { status: 503, body: "{{ rule.name }} {{ response.status | default('-') }} {{ upstream.address }}" }
            rules:
              - { name: early, when: { path: /early }, respond: page }
              - { name: late, when: { status: 404 }, respond: page }
            """)
        func body(_ target: String, status: Int?) throws -> String? {
            var facts = ExchangeFacts(method: "GET", target: target, epochSeconds: 0)
            facts.upstreamAddress = "up"
            let explanation = try #require(Explanation(table: table, facts: facts, status: status, origin: .upstream))
            return explanation.response.map { String(decoding: $0.body, as: UTF8.self) }
        }
        #expect(try body("/early", status: nil) == "early - ")
        #expect(try body("/other", status: 404) == "late 404 up")
        #expect(try body("/early", status: nil) == "early - ")
    }

    @Test func invalidPercentEncodingHasNoExplanation() throws {
        let table = try table("rules: []\n")
        let facts = ExchangeFacts(method: "GET", target: "/a%zz")
        #expect(Explanation(table: table, facts: facts, status: nil, origin: .upstream) == nil)
    }
}
