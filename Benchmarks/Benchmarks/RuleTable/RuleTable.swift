import AttacheRules
import Benchmark

/// Rule-table speed: evaluation with 1, 100 and 10,000 generated rules mixing every pattern
/// kind, and the compile time of 10,000 rules. Targets (issue "Rule engine"): median
/// evaluation ≤ 1 µs at 10,000 rules, no allocation for a request no `respond` rule matches,
/// compile of 10,000 rules ≤ 200 ms.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    for count in [1, 100, 10_000] {
        let table = RuleSetGenerator.table(count: count)
        let lastExact = RuleSetGenerator.lastIndex(of: 0, below: count)

        Benchmark("request phase, no match (\(count) rules)") { benchmark in
            var scratch = MatchScratch()
            evaluateRequest(table, "GET", "/nothing/matches/this/path", &scratch, benchmark)
        }
        Benchmark("request phase, exact hit (\(count) rules)") { benchmark in
            var scratch = MatchScratch()
            evaluateRequest(table, "GET", "/svc\(lastExact)/items", &scratch, benchmark)
        }
        Benchmark("response phase, 502 (\(count) rules)") { benchmark in
            var scratch = MatchScratch()
            withView(table, "GET", "/svc\(RuleSetGenerator.lastIndex(of: 6, below: count))/a/b") { view in
                blackHole(table.firstResponseResponder(view, status: 502, origin: .upstream, scratch: &scratch))
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(table.firstResponseResponder(view, status: 502, origin: .upstream, scratch: &scratch))
                }
                benchmark.stopMeasurement()
            }
        }
        Benchmark("completion rules (\(count) rules)") { benchmark in
            var scratch = MatchScratch()
            var list: [Int32] = []
            list.reserveCapacity(16)
            withView(table, "GET", "/svc\(RuleSetGenerator.lastIndex(of: 3, below: count))/users/42") { view in
                table.completionRules(view, status: 200, origin: .upstream, into: &list, scratch: &scratch)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    table.completionRules(view, status: 200, origin: .upstream, into: &list, scratch: &scratch)
                    blackHole(list.count)
                }
                benchmark.stopMeasurement()
            }
        }
    }

    let text = RuleSetGenerator.yaml(count: 10_000)
    Benchmark(
        "compile 10000 rules (read + decode + lint + index)",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 20)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(RuleLoader().load(text: text).table)
        }
    }
    let ruleSet = RuleSetGenerator.table(count: 10_000).ruleSet
    Benchmark(
        "index 10000 decoded rules (RuleTable.init)",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 50)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(RuleTable(ruleSet))
        }
    }
}

func evaluateRequest(
    _ table: RuleTable, _ method: String, _ path: String, _ scratch: inout MatchScratch, _ benchmark: Benchmark
) {
    withView(table, method, path) { view in
        // Warm the scratch space outside the measured loop.
        blackHole(table.firstRequestResponder(view, scratch: &scratch))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(table.firstRequestResponder(view, scratch: &scratch))
        }
        benchmark.stopMeasurement()
    }
}

func withView(_ table: RuleTable, _ method: String, _ path: String, _ body: (RequestView) -> Void) {
    let facts = ExchangeFacts(method: method, target: path, requestHeaders: [("x-tenant-7", "t")])
    _ = facts.withRequestView(for: table, body)
}

/// Rule sets that mix every pattern kind, one kind per rule in rotation.
enum RuleSetGenerator {
    static let kinds = 8

    static func yaml(count: Int) -> String {
        var text = "rules:\n"
        for index in 0..<count {
            let rule: String
            switch index % kinds {
            case 0: rule = "when: { method: GET, path: /svc\(index)/items }, respond: { status: 404 }"
            case 1: rule = "when: { path: /svc\(index)/*/detail }, respond: { status: 410 }"
            case 2: rule = "when: { path: /svc\(index)/**/edit }, respond: { status: 403 }"
            case 3: rule = "when: { path: \"/svc\(index)/users/{id}\" }, log: \"{{ path.id }}\""
            case 4: rule = "when: { path: { prefix: /pfx\(index)/ } }, respond: { status: 503 }"
            case 5: rule = "when: { path: { regex: \"^/re\(index)/v[0-9]+$\" } }, respond: { status: 400 }"
            case 6: rule = "when: { status: 5xx, path: /svc\(index)/** }, respond: { body: oops }"
            default: rule = "when: { path: /hdr\(index)/**, headers: { x-tenant-\(index): t } }, respond: { status: 401 }"
            }
            text += "  - { name: r\(index), \(rule) }\n"
        }
        return text
    }

    static func table(count: Int) -> RuleTable {
        let outcome = RuleLoader().load(text: yaml(count: count))
        guard let table = outcome.table else {
            fatalError("generated rules do not load: \(outcome.diagnostics.prefix(3))")
        }
        return table
    }

    /// The last rule index of `kind` below `count` (or the first, for tiny sets).
    static func lastIndex(of kind: Int, below count: Int) -> Int {
        let candidate = ((count - 1 - kind) / kinds) * kinds + kind
        return candidate >= 0 ? candidate : kind
    }
}
