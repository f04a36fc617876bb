import Testing

@testable import AttacheRules

@Suite struct ShadowAnalysisTests {
    func warnings(_ rules: [String]) -> [String] {
        let yaml = "rules:\n" + rules.enumerated().map { "  - { name: r\($0.offset), \($0.element) }" }.joined(separator: "\n")
        return load(yaml).diagnostics.filter { $0.severity == .warning }.map(\.renderedWithNotes)
    }

    func unreachable(_ later: Int, by earlier: Int) -> String {
        "rules.yaml:\(later + 2):5: warning: rule 'r\(later)' never responds: 'r\(earlier)' comes first and responds to everything it matches [A201]\nrules.yaml:\(earlier + 2):5: note: 'r\(earlier)' is here"
    }

    func identical(_ later: Int, to earlier: Int) -> String {
        "rules.yaml:\(later + 2):5: warning: rule 'r\(later)' has the same conditions as 'r\(earlier)', which comes first and responds; 'r\(later)' never responds [A202]\nrules.yaml:\(earlier + 2):5: note: 'r\(earlier)' is here"
    }

    enum Verdict: Sendable {
        case reachable
        case unreachable
        case identical
    }

    @Test(arguments: [
        // paths
        ("when: { path: /api/** }", "when: { path: /api/v1/users }", .unreachable),
        ("when: { path: /api/** }", "when: { path: \"/api/{id}/x\" }", .unreachable),
        ("when: { path: /api/* }", "when: { path: /api/v1/users }", .reachable),
        ("when: { path: /api/* }", "when: { path: \"/api/{id}\" }", .identical),
        ("when: { path: \"/api/{id}\" }", "when: { path: /api/* }", .identical),
        ("when: { path: /**/edit }", "when: { path: /a/b/edit }", .unreachable),
        ("when: { path: /**/edit }", "when: { path: /a/**/edit }", .unreachable),
        ("when: { path: /a/**/edit }", "when: { path: /**/edit }", .reachable),
        ("when: { path: /** }", "when: { path: { prefix: /x } }", .unreachable),
        ("when: { path: { prefix: /api } }", "when: { path: /api/** }", .unreachable),
        ("when: { path: { prefix: /api/ } }", "when: { path: /api/** }", .reachable),
        ("when: { path: { prefix: /api/ } }", "when: { path: /api/* }", .unreachable),
        ("when: { path: { prefix: /api } }", "when: { path: { prefix: /api/v2 } }", .unreachable),
        ("when: { path: /api/** }", "when: { path: { prefix: /api/v2 } }", .unreachable),
        ("when: { path: /api/** }", "when: { path: { prefix: /apix } }", .reachable),
        ("when: { path: [/a, /b] }", "when: { path: [/b, /a] }", .identical),
        ("when: { path: /a }", "when: { path: [/a, /b] }", .reachable),
        ("when: { path: { regex: x } }", "when: { path: /x }", .reachable),
        ("when: { path: /x }", "when: { method: GET }", .reachable),
        // methods
        ("when: { method: [GET, HEAD] }", "when: { method: GET, path: /x }", .unreachable),
        ("when: { method: GET }", "when: { path: /x }", .reachable),
        // statuses and origins (response phase)
        ("when: { status: 4xx }", "when: { status: [404, 410], path: /x }", .unreachable),
        ("when: { status: \"400-499\" }", "when: { status: 4xx }", .identical),
        ("when: { status: 404 }", "when: { status: 4xx }", .reachable),
        ("when: { status: 5xx, origin: proxy }", "when: { status: 502 }", .reachable),
        ("when: { status: 5xx }", "when: { status: 502, origin: proxy }", .unreachable),
        ("when: { origin: proxy }", "when: { status: 502, origin: proxy }", .unreachable),
        // an earlier request-phase rule hides later response-phase ones on its requests
        ("when: { path: /orders/** }", "when: { status: 404, path: /orders/x }", .unreachable),
        ("when: { status: 404, path: /orders/** }", "when: { path: /orders/x }", .reachable),
        // headers
        ("when: { headers: { x: a } }", "when: { headers: { x: a, y: b } }", .unreachable),
        ("when: { headers: { x: [a, b] } }", "when: { headers: { x: b } }", .unreachable),
        ("when: { headers: { x: a } }", "when: { path: /p }", .reachable),
        ("when: { headers: { x: { present: true } } }", "when: { headers: { x: { regex: q } } }", .unreachable),
    ] as [(String, String, Verdict)])
    func coverage(_ earlier: String, _ later: String, _ verdict: Verdict) {
        let found = warnings(["\(earlier), respond: { status: 500 }", "\(later), respond: { status: 500 }"])
        switch verdict {
        case .reachable: #expect(found == [])
        case .unreachable: #expect(found == [unreachable(1, by: 0)])
        case .identical: #expect(found == [identical(1, to: 0)])
        }
    }

    @Test func onlyRespondRulesShadow() {
        #expect(warnings(["log: x", "when: { path: /x }, respond: { status: 500 }"]) == [])
        #expect(warnings(["respond: { status: 500 }", "when: { path: /x }, log: y"]) == [])
    }

    @Test func reportsTheFirstCoveringRuleOnce() {
        let found = warnings([
            "when: { path: /a/** }, respond: { status: 500 }",
            "when: { path: /** }, respond: { status: 500 }",
            "when: { path: /a/b }, respond: { status: 500 }",
        ])
        #expect(found == [unreachable(2, by: 0)])
    }
}
