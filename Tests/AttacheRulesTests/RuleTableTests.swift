import Testing

@testable import AttacheRules

@Suite struct RuleTableTests {
    static let rules = """
        rules:
          - name: maintenance
            when: { method: [POST, PUT, DELETE], path: /orders/** }
            respond: { status: 503, body: down }
          - name: legacy
            when: { path: { prefix: /old } }
            respond: { status: 410 }
          - name: html-404
            when: { status: 404, headers: { accept: { regex: text/html } } }
            respond: { body: "<h1>{{ request.path }}</h1>", headers: { content-type: text/html } }
          - name: api-404
            when: { status: 404, path: /api/** }
            respond: { status: 404, body: '{"error":"not found"}', headers: { content-type: application/json } }
          - name: proxy-errors
            when: { status: 5xx, origin: proxy }
            respond: { body: "upstream trouble" }
          - name: purge
            when: { method: PURGE }
            respond: { status: 204 }
          - name: profile
            record: true
          - name: errors
            when: { status: [4xx, 5xx] }
            log: "{{ response.status }}"
          - name: users
            when: { path: "/users/{id}" }
            record: { key: "/users/{id}" }
            log: "{{ path.id }}"
        """

    @Test(arguments: [
        // Request phase: first matching respond rule answers.
        ("POST", "/orders/7", [], 200, Origin.upstream, "maintenance", nil, ["profile"]),
        ("GET", "/orders/7", [], 200, .upstream, nil, nil, ["profile"]),
        ("DELETE", "/orders", [], 200, .upstream, "maintenance", nil, ["profile"]),
        ("GET", "/oldies", [], 200, .upstream, "legacy", nil, ["profile"]),
        ("PURGE", "/x", [], 200, .upstream, "purge", nil, ["profile"]),
        ("purge", "/x", [], 200, .upstream, nil, nil, ["profile"]),
        // Response phase: status, headers, path and origin decide.
        ("GET", "/api/x", [("Accept", "text/html,*/*")], 404, .upstream, nil, "html-404", ["profile", "errors"]),
        ("GET", "/api/x", [("Accept", "application/json")], 404, .upstream, nil, "api-404", ["profile", "errors"]),
        ("GET", "/web", [], 404, .upstream, nil, nil, ["profile", "errors"]),
        ("GET", "/web", [], 502, .proxy, nil, "proxy-errors", ["profile", "errors"]),
        ("GET", "/web", [], 502, .upstream, nil, nil, ["profile", "errors"]),
        ("GET", "/users/42", [], 200, .upstream, nil, nil, ["profile", "users"]),
        ("GET", "/users/42/x", [], 200, .upstream, nil, nil, ["profile"]),
        // Matching happens on the normalized path.
        ("POST", "/api/../orders/1", [], 200, .upstream, "maintenance", nil, ["profile"]),
        ("POST", "/%6Frders/1", [], 200, .upstream, "maintenance", nil, ["profile"]),
        ("GET", "*", [], 200, .upstream, nil, nil, ["profile"]),
    ] as [(String, String, [(String, String)], Int, Origin, String?, String?, [String])])
    func evaluation(
        _ method: String, _ target: String, _ headers: [(String, String)], _ status: Int, _ origin: Origin,
        _ request: String?, _ response: String?, _ completion: [String]
    ) throws {
        let table = try table(Self.rules)
        let result = evaluate(table, method, target, headers: headers, status: status, origin: origin)
        #expect(result == Evaluation(requestResponder: request, responseResponder: response, completion: completion))
    }

    @Test func firstMatchWinsAcrossIndexKinds() throws {
        // The winner must be the earliest rule whatever index structure found it.
        let table = try table("""
            rules:
              - { name: regex, when: { path: { regex: "^/a/b" } }, respond: { status: 500 } }
              - { name: exact, when: { path: /a/b }, respond: { status: 501 } }
              - { name: glob, when: { path: /a/* }, respond: { status: 502 } }
              - { name: prefix, when: { path: { prefix: /a } }, respond: { status: 503 } }
              - { name: any, respond: { status: 504 } }
            """)
        #expect(evaluate(table, "GET", "/a/b")?.requestResponder == "regex")
        #expect(evaluate(table, "GET", "/a/c")?.requestResponder == "glob")
        #expect(evaluate(table, "GET", "/ab")?.requestResponder == "prefix")
        #expect(evaluate(table, "GET", "/b")?.requestResponder == "any")
    }

    @Test func headerConditions() throws {
        let table = try table("""
            rules:
              - { name: exact, when: { headers: { x-mode: [a, b] } }, respond: { status: 500 } }
              - { name: absent, when: { headers: { authorization: { present: false } } }, respond: { status: 401 } }
              - { name: present, when: { headers: { x-debug: { present: true } } }, respond: { status: 200 } }
            """)
        #expect(evaluate(table, "GET", "/", headers: [("X-Mode", " b "), ("Authorization", "x")])?.requestResponder == "exact")
        #expect(evaluate(table, "GET", "/", headers: [("x-mode", "c"), ("x-mode", "a"), ("authorization", "x")])?.requestResponder == "exact")
        #expect(evaluate(table, "GET", "/", headers: [("x-mode", "A"), ("authorization", "x")])?.requestResponder == nil)
        #expect(evaluate(table, "GET", "/")?.requestResponder == "absent")
        #expect(evaluate(table, "GET", "/", headers: [("authorization", "x"), ("x-debug", "")])?.requestResponder == "present")
        #expect(table.requestHeaderNames == ["x-mode", "authorization", "x-debug"])
    }

    @Test func statusRangesAndOrigins() throws {
        let table = try table("""
            rules:
              - { name: range, when: { status: "500-503" }, respond: { status: 500 } }
              - { name: class, when: { status: 5xx, origin: [upstream] }, respond: { status: 500 } }
              - { name: any-origin-proxy, when: { origin: proxy }, respond: { status: 500 } }
            """)
        #expect(evaluate(table, "GET", "/", status: 503)?.responseResponder == "range")
        #expect(evaluate(table, "GET", "/", status: 504)?.responseResponder == "class")
        #expect(evaluate(table, "GET", "/", status: 504, origin: .proxy)?.responseResponder == "any-origin-proxy")
        #expect(evaluate(table, "GET", "/", status: 200, origin: .proxy)?.responseResponder == "any-origin-proxy")
        #expect(evaluate(table, "GET", "/", status: 200)?.responseResponder == nil)
        // A rule with an origin condition is a response-phase rule.
        #expect(evaluate(table, "GET", "/")?.requestResponder == nil)
    }

    @Test func completionListsEveryMatchInOrderOnce() throws {
        let table = try table("""
            rules:
              - { name: both, when: { path: [/a/**, /a/b] }, log: x }
              - { name: all, record: true }
              - { name: errors, when: { status: 5xx }, log: y }
              - { name: b-only, when: { path: { regex: "b$" } }, log: z }
            """)
        #expect(evaluate(table, "GET", "/a/b", status: 500)?.completion == ["both", "all", "errors", "b-only"])
        #expect(evaluate(table, "GET", "/a/c", status: 200)?.completion == ["both", "all"])
    }

    @Test func emptyTableRelaysEverything() {
        let result = evaluate(RuleTable.empty, "GET", "/x", status: 404)
        #expect(result == Evaluation(requestResponder: nil, responseResponder: nil, completion: []))
    }

    @Test func capturesComeFromTheMatchingPattern() throws {
        let table = try table("""
            rules:
              - name: users
                when: { path: ["/u/{user}", "/users/{user}/posts/{post}"] }
                respond: { status: 200, body: "{{ path.user }}:{{ path.post | default('-') }}" }
            """)
        let rule = table.rules[0]
        let facts = ExchangeFacts(method: "GET", target: "/users/ann/posts/7")
        let captures = facts.withRequestView(for: table) { rule.conditions.pathCaptures($0) }
        #expect(captures == ["user": "ann", "post": "7"])
        var renderFacts = facts
        renderFacts.captures = captures ?? [:]
        #expect(rule.respond?.render(renderFacts, matchedStatus: nil).body == Array("ann:7".utf8))
    }

    @Test func requestHeaderSlotsAreCaseInsensitive() throws {
        let table = try table("rules:\n  - { name: a, when: { headers: { X-Api-Key: { present: true } } }, log: x }\n")
        for name in ["x-api-key", "X-API-KEY", "X-Api-Key"] {
            #expect(Array(name.utf8).withUnsafeBytes { table.requestHeaderSlot($0) } == 0)
        }
        #expect(Array("x-api-ke".utf8).withUnsafeBytes { table.requestHeaderSlot($0) } == nil)
    }

    /// The quick questions the relay asks before building a request view: which statuses a
    /// rule may replace, whether any rule answers requests or records and logs.
    @Test func quickQuestions() throws {
        let table = try AttacheRulesTests.table(Self.rules)
        #expect([200, 301, 403, 404, 500, 503, 599, 600, 999].filter { table.mayReplaceResponse(status: $0) } == [404, 500, 503, 599])
        #expect(table.answersRequests && table.hasCompletionRules)
        let onlyRequests = try AttacheRulesTests.table("rules:\n  - name: a\n    when: { path: /a }\n    respond: { status: 204 }\n")
        #expect(onlyRequests.answersRequests && !onlyRequests.hasCompletionRules)
        #expect(!onlyRequests.mayReplaceResponse(status: 404))
        // An origin condition alone replaces responses of any status, even outside 100-599.
        let anyStatus = try AttacheRulesTests.table("rules:\n  - name: a\n    when: { origin: proxy }\n    respond: { status: 502 }\n")
        #expect([100, 200, 502, 999].allSatisfy { anyStatus.mayReplaceResponse(status: $0) })
        #expect(!anyStatus.answersRequests && !anyStatus.hasCompletionRules)
        #expect(!RuleTable.empty.answersRequests && !RuleTable.empty.mayReplaceResponse(status: 404))
        // Logging and recording without conditions: the list, in rule order; one condition on
        // one of them (or none of them at all) and there is no list.
        let everyExchange = try AttacheRulesTests.table("""
            rules:
              - name: page
                when: { status: 404 }
                respond: { status: 404 }
              - { name: profile, record: true }
              - { name: access, log: x }
            """)
        #expect(everyExchange.unconditionalCompletion == [1, 2])
        let conditional = try AttacheRulesTests.table("""
            rules:
              - { name: profile, record: true }
              - { name: access, when: { method: GET }, log: x }
            """)
        #expect(conditional.unconditionalCompletion == nil)
        #expect(table.unconditionalCompletion == nil && onlyRequests.unconditionalCompletion == nil)
    }

    /// Response rules that read nothing of the request (status and origin only) are answered
    /// without a request view, and the answer is the index's for every status and origin.
    @Test func requestFreeRespondersAgreeWithTheIndex() throws {
        let pages = try AttacheRulesTests.table("""
            rules:
              - { name: teapot, when: { status: 418, origin: upstream }, respond: { status: 500 } }
              - { name: gone, when: { status: [404, 410] }, respond: { status: 404 } }
              - { name: proxy-errors, when: { status: 5xx, origin: proxy }, respond: { status: 503 } }
              - { name: any-proxy, when: { origin: proxy }, respond: { status: 502 } }
              - { name: ask-first, when: { path: /a }, respond: { status: 200 } }
              - { name: logged, when: { status: 404, path: /b }, log: x }
            """)
        #expect(!pages.respondersReadRequest)
        var answers: [String] = []
        for status in [100, 200, 404, 410, 418, 500, 502, 599, 600, 999] {
            for origin in [Origin.upstream, .proxy] {
                let quick = pages.firstResponseResponder(status: status, origin: origin)
                let indexed = evaluate(pages, "GET", "/b", status: status, origin: origin)?.responseResponder
                #expect(quick.map { pages.rules[$0].name } == indexed, "status \(status), \(origin)")
                if let quick { answers.append("\(status) \(origin): \(pages.rules[quick].name)") }
            }
        }
        #expect(answers == [
            "100 proxy: any-proxy", "200 proxy: any-proxy", "404 upstream: gone", "404 proxy: gone",
            "410 upstream: gone", "410 proxy: gone", "418 upstream: teapot", "418 proxy: any-proxy",
            "500 proxy: proxy-errors", "502 proxy: proxy-errors", "599 proxy: proxy-errors", "600 proxy: any-proxy",
            "999 proxy: any-proxy",
        ])
        // A method, path or header condition on any response rule, or more than
        // `requestFreeLimit` of them: the relay asks with a request view.
        for condition in ["method: GET", "path: /x", "headers: { x-a: { present: true } }"] {
            let reads = try AttacheRulesTests.table("""
                rules:
                  - { name: gone, when: { status: 404 }, respond: { status: 404 } }
                  - { name: narrow, when: { status: 500, \(condition) }, respond: { status: 500 } }
                """)
            #expect(reads.respondersReadRequest, "\(condition)")
        }
        let many = (0...RuleTable.requestFreeLimit).map { "  - { name: r\($0), when: { status: \(400 + $0) }, respond: { status: 500 } }" }
        #expect(try AttacheRulesTests.table("rules:\n" + many.joined(separator: "\n") + "\n").respondersReadRequest)
        #expect(try !AttacheRulesTests.table("rules:\n" + many.dropLast().joined(separator: "\n") + "\n").respondersReadRequest)
        #expect(!RuleTable.empty.respondersReadRequest && RuleTable.empty.firstResponseResponder(status: 404, origin: .upstream) == nil)
    }

    /// The indexed table must agree with evaluating every rule's conditions in order, for
    /// random rule sets and requests mixing every pattern kind.
    @Test func indexAgreesWithLinearEvaluation() throws {
        var generator = SplitMix64(seed: 7)
        let segments = ["a", "b", "c", "api", "v1", ""]
        func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }
        func randomPattern() -> String {
            switch generator.next() % 6 {
            case 0: return "{ prefix: \"/\(pick(segments))\(pick(["", "/", "/v"]))\" }"
            case 1: return "{ regex: \"\(pick(["^/", "^/a", "/", "^/v?"]))\(pick(segments))\(pick(["/", "$", ""]))\" }"
            default:
                let count = 1 + Int(generator.next() % 4)
                return "\"/" + (0..<count).map { index -> String in
                    switch generator.next() % 5 {
                    case 0: return "*"
                    case 1: return "**"
                    case 2: return "{p\(index)}"
                    default: return pick(segments.filter { !$0.isEmpty })
                    }
                }.joined(separator: "/") + "\""
            }
        }
        for round in 0..<30 {
            var yaml = "rules:\n"
            // Every third round, the rules that log or record have no condition: the table's
            // unconditional list answers instead of the index.
            let unconditionalRound = round % 3 == 0
            for index in 0..<40 {
                var conditions: [String] = []
                if generator.next() % 3 != 0 { conditions.append("path: [\(randomPattern()), \(randomPattern())]") }
                if generator.next() % 3 == 0 { conditions.append("method: [\(pick(["GET", "POST", "PURGE"])), \(pick(["HEAD", "GET"]))]") }
                if generator.next() % 3 == 0 { conditions.append("status: \(pick(["404", "\"5xx\"", "\"200-404\"", "[301, 302]"]))") }
                if generator.next() % 5 == 0 { conditions.append("origin: \(pick(["upstream", "proxy"]))") }
                if generator.next() % 5 == 0 { conditions.append("headers: { x-h: \(pick(["a", "{ present: false }", "{ regex: \"^b\" }"])) }") }
                let action = pick(["respond: { status: 500 }", "log: x", "record: true", "respond: { status: 500 }\n    log: y"])
                if unconditionalRound && action.hasPrefix("respond") {
                    yaml += "  - name: r\(index)\n    when: { \(conditions.joined(separator: ", ")) }\n    respond: { status: 500 }\n"
                    continue
                }
                if unconditionalRound { conditions = [] }
                yaml += "  - name: r\(index)\n    when: { \(conditions.joined(separator: ", ")) }\n    \(action)\n"
            }
            let table = try table(yaml)
            #expect((table.unconditionalCompletion != nil) == unconditionalRound, "round \(round)")
            for _ in 0..<200 {
                let method = pick(["GET", "POST", "HEAD", "PURGE", "PUT"])
                let path = "/" + (0..<Int(generator.next() % 5)).map { _ in pick(segments) }.joined(separator: "/")
                let headers = generator.next() % 2 == 0 ? [("x-h", pick(["a", "b", "bb", "c"]))] : []
                let status = pick([200, 301, 404, 500, 503])
                let origin = pick([Origin.upstream, .proxy])
                let indexed = evaluate(table, method, path, headers: headers, status: status, origin: origin)
                let linear = linearEvaluation(table, method, path, headers: headers, status: status, origin: origin)
                #expect(indexed == linear, "round \(round): \(method) \(path) \(headers) \(status) \(origin)")
            }
        }
    }

    /// The reference semantics, straight from DESIGN.md: rules in order, no index.
    func linearEvaluation(
        _ table: RuleTable, _ method: String, _ target: String, headers: [(String, String)], status: Int, origin: Origin
    ) -> Evaluation? {
        let facts = ExchangeFacts(method: method, target: target, requestHeaders: headers.map { (name: $0.0, value: $0.1) })
        return facts.withRequestView(for: table) { view in
            var captures: [Range<Int>] = []
            let rules = table.rules
            let request = rules.first {
                $0.respond != nil && $0.phase == .request && $0.conditions.matchesRequest(view, captures: &captures)
            }
            let response = rules.first {
                $0.respond != nil && $0.phase == .response && $0.conditions.matchesResponse(status: status, origin: origin)
                    && $0.conditions.matchesRequest(view, captures: &captures)
            }
            let completion = rules.filter {
                ($0.record != nil || $0.log != nil) && $0.conditions.matchesResponse(status: status, origin: origin)
                    && $0.conditions.matchesRequest(view, captures: &captures)
            }
            return Evaluation(
                requestResponder: request?.name, responseResponder: response?.name, completion: completion.map(\.name))
        }
    }
}
