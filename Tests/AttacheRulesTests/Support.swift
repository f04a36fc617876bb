import Testing

@testable import AttacheRules

/// Loads one in-memory rules file named `rules.yaml`.
func load(_ yaml: String, path: String = "rules.yaml") -> RuleLoader.Outcome {
    RuleLoader().load(text: yaml, path: path)
}

/// The rendered primary lines (`file:line:col: severity: message [CODE]`).
func diagnostics(_ yaml: String) -> [String] {
    load(yaml).diagnostics.map(\.description)
}

/// The table of a rule set that must load without errors.
func table(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> RuleTable {
    let outcome = load(yaml)
    let errors = outcome.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "unexpected errors: \(errors.map(\.description))", sourceLocation: sourceLocation)
    return try #require(outcome.table, sourceLocation: sourceLocation)
}

/// Names of the rules the table picks for a request, per question.
struct Evaluation: Equatable, CustomStringConvertible {
    var requestResponder: String?
    var responseResponder: String?
    var completion: [String]

    var description: String { "request=\(requestResponder ?? "-") response=\(responseResponder ?? "-") completion=\(completion)" }
}

func evaluate(
    _ table: RuleTable, _ method: String, _ target: String, headers: [(String, String)] = [], status: Int = 200,
    origin: Origin = .upstream
) -> Evaluation? {
    let facts = ExchangeFacts(method: method, target: target, requestHeaders: headers.map { (name: $0.0, value: $0.1) })
    var scratch = MatchScratch()
    return facts.withRequestView(for: table) { view in
        let request = table.firstRequestResponder(view, scratch: &scratch).map { table.rules[$0].name }
        let response = table.firstResponseResponder(view, status: status, origin: origin, scratch: &scratch).map {
            table.rules[$0].name
        }
        var list: [Int32] = []
        table.completionRules(view, status: status, origin: origin, into: &list, scratch: &scratch)
        return Evaluation(
            requestResponder: request, responseResponder: response, completion: list.map { table.rules[Int($0)].name })
    }
}
