import AttacheRules

// A plain loop over one rule-table question, for `perf record` / `valgrind --tool=callgrind`:
//   swift build -c release --package-path Benchmarks --product rules-profile
//   perf record -e cpu-clock Benchmarks/.build/release/rules-profile response 10000 2000000
let arguments = CommandLine.arguments
let question = arguments.count > 1 ? arguments[1] : "request"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 10_000 : 10_000
let iterations = arguments.count > 3 ? Int(arguments[3]) ?? 1_000_000 : 1_000_000

var text = "rules:\n"
for index in 0..<count {
    switch index % 8 {
    case 0: text += "  - { name: r\(index), when: { method: GET, path: /svc\(index)/items }, respond: { status: 404 } }\n"
    case 1: text += "  - { name: r\(index), when: { path: /svc\(index)/*/detail }, respond: { status: 410 } }\n"
    case 2: text += "  - { name: r\(index), when: { path: /svc\(index)/**/edit }, respond: { status: 403 } }\n"
    case 3: text += "  - { name: r\(index), when: { path: \"/svc\(index)/users/{id}\" }, log: \"{{ path.id }}\" }\n"
    case 4: text += "  - { name: r\(index), when: { path: { prefix: /pfx\(index)/ } }, respond: { status: 503 } }\n"
    case 5: text += "  - { name: r\(index), when: { path: { regex: \"^/re\(index)/v[0-9]+$\" } }, respond: { status: 400 } }\n"
    case 6: text += "  - { name: r\(index), when: { status: 5xx, path: /svc\(index)/** }, respond: { body: oops } }\n"
    default: text += "  - { name: r\(index), when: { path: /hdr\(index)/**, headers: { x-tenant-\(index): t } }, respond: { status: 401 } }\n"
    }
}
if question == "compile" {
    for _ in 0..<iterations { _ = RuleLoader().load(text: text).table }
} else {
    guard let table = RuleLoader().load(text: text).table else { fatalError("rules do not load") }
    let facts = ExchangeFacts(method: "GET", target: question == "request" ? "/nothing/matches/this/path" : "/svc6/a/b")
    var scratch = MatchScratch()
    var list: [Int32] = []
    var found = 0
    _ = facts.withRequestView(for: table) { view in
        for _ in 0..<iterations {
            switch question {
            case "request": found &+= table.firstRequestResponder(view, scratch: &scratch) ?? 0
            case "response": found &+= table.firstResponseResponder(view, status: 502, origin: .upstream, scratch: &scratch) ?? 0
            default:
                table.completionRules(view, status: 200, origin: .upstream, into: &list, scratch: &scratch)
                found &+= list.count
            }
        }
    }
    print(found)
}

if question == "stages" {
    let clock = ContinuousClock()
    let source = SourceFile(path: "r.yaml", text: text)
    var root: YAMLNode? = nil
    let read = clock.measure { root = YAMLReader().read(source).root }
    var outcome: RuleLoader.Outcome? = nil
    let all = clock.measure { outcome = RuleLoader().load(sources: [source], rulesRoot: nil) }
    var table: RuleTable? = nil
    let index = clock.measure { table = RuleTable(outcome!.table!.ruleSet) }
    print("read \(read), load total \(all), index \(index)", root != nil, table != nil)
}
