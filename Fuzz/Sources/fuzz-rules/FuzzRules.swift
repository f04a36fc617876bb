import AttacheRules

/// libFuzzer entry point: the input is one rules file. It is read, decoded, linted and
/// compiled; when it yields a table, a few requests are evaluated and every response, record
/// key and log line is rendered. Any crash, hang or sanitizer report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    // A root that does not exist: body_file is always refused, so no file is ever read.
    let outcome = RuleLoader().load(sources: [SourceFile(path: "fuzz.yaml", bytes: bytes)], rulesRoot: "/nonexistent")
    for diagnostic in outcome.diagnostics { _ = diagnostic.renderedWithNotes }
    guard let table = outcome.table else { return 0 }
    for (method, target, status, origin) in FuzzRequests.all {
        var facts = ExchangeFacts(
            method: method, target: target, requestHeaders: [("Accept", "text/html"), ("X-A", "b\r\nc")],
            epochSeconds: 1_795_651_200)
        facts.durationNanoseconds = 1_234_567
        if let explanation = Explanation(table: table, facts: facts, status: status, origin: origin) {
            _ = explanation.text(rulesPath: "fuzz", digest: table.ruleSet.digest)
        }
    }
    return 0
}

enum FuzzRequests {
    static let all: [(String, String, Int?, Origin)] = [
        ("GET", "/", nil, .upstream),
        ("POST", "/api/v1/users/42?x=<y>", 404, .upstream),
        ("PURGE", "/a/../b/%7Ec", 502, .proxy),
        ("GET", "/a/b/c/d/e/f/g", 500, .upstream),
        ("HEAD", "*", 204, .upstream),
    ]
}
