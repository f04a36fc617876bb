/// What a rule set does with one exchange, phase by phase: the data behind `attache explain`.
///
/// The answering rules come from the `RuleTable` (the code the relay runs); the lists of every
/// matching rule come from evaluating each rule's conditions directly, which is what the table
/// must agree with.
public struct Explanation {
    public let facts: ExchangeFacts
    /// Request-phase `respond` rules that match, in order; the first answers.
    public let requestMatches: [Rule]
    public let requestResponder: Rule?
    /// The status and origin the response phase saw (`nil` when the request phase answered).
    public let responseStatus: Int?
    public let origin: Origin
    public let responseMatches: [Rule]
    public let responseResponder: Rule?
    /// The response a rule produced, or `nil` when the upstream's (or proxy's) passes through.
    public let response: RenderedResponse?
    public let finalStatus: Int
    /// True when no status was given and 200 was assumed.
    public let statusAssumed: Bool
    public let records: [(rule: Rule, key: String)]
    public let logs: [(rule: Rule, line: String)]

    /// `nil` when the request path has invalid percent-encoding.
    public init?(table: RuleTable, facts: ExchangeFacts, status: Int?, origin givenOrigin: Origin) {
        var scratch = MatchScratch()
        let rules = table.rules
        let evaluated: Explanation.Evaluated? = facts.withRequestView(for: table) { view in
            var facts = facts
            var captures: [Range<Int>] = []
            let requestMatches = rules.filter {
                $0.respond != nil && $0.phase == .request && $0.conditions.matchesRequest(view, captures: &captures)
            }
            let requestResponder = table.firstRequestResponder(view, scratch: &scratch).map { rules[$0] }
            var responseStatus: Int? = nil
            var responseMatches: [Rule] = []
            var responseResponder: Rule? = nil
            var response: RenderedResponse? = nil
            var origin = givenOrigin
            var finalStatus: Int
            if let responder = requestResponder, let template = responder.respond {
                origin = .proxy
                var renderFacts = facts
                renderFacts.ruleName = responder.name
                renderFacts.captures = responder.conditions.pathCaptures(view)
                response = template.render(renderFacts, matchedStatus: nil)
                finalStatus = response!.status
                facts.respondingRule = responder.name
            } else {
                let upstreamStatus = status ?? 200
                responseStatus = upstreamStatus
                facts.status = upstreamStatus
                facts.origin = origin
                responseMatches = rules.filter {
                    $0.respond != nil && $0.phase == .response
                        && $0.conditions.matchesResponse(status: upstreamStatus, origin: origin)
                        && $0.conditions.matchesRequest(view, captures: &captures)
                }
                responseResponder = table.firstResponseResponder(
                    view, status: upstreamStatus, origin: origin, scratch: &scratch
                ).map { rules[$0] }
                finalStatus = upstreamStatus
                if let responder = responseResponder, let template = responder.respond {
                    var renderFacts = facts
                    renderFacts.ruleName = responder.name
                    renderFacts.captures = responder.conditions.pathCaptures(view)
                    response = template.render(renderFacts, matchedStatus: upstreamStatus)
                    finalStatus = response!.status
                    facts.respondingRule = responder.name
                }
            }
            facts.status = finalStatus
            facts.reason = response?.reason
            facts.origin = origin
            var completion: [Int32] = []
            table.completionRules(view, status: finalStatus, origin: origin, into: &completion, scratch: &scratch)
            var records: [(rule: Rule, key: String)] = []
            var logs: [(rule: Rule, line: String)] = []
            for index in completion {
                let rule = rules[Int(index)]
                var ruleFacts = facts
                ruleFacts.ruleName = rule.name
                ruleFacts.captures = rule.conditions.pathCaptures(view)
                if let record = rule.record { records.append((rule, record.key.render(ruleFacts))) }
                if let log = rule.log { logs.append((rule, log.render(ruleFacts))) }
            }
            return Evaluated(
                facts: facts, requestMatches: requestMatches, requestResponder: requestResponder,
                responseStatus: responseStatus, origin: origin, responseMatches: responseMatches,
                responseResponder: responseResponder, response: response, finalStatus: finalStatus,
                records: records, logs: logs)
        }
        guard let evaluated else { return nil }
        self.facts = evaluated.facts
        requestMatches = evaluated.requestMatches
        requestResponder = evaluated.requestResponder
        responseStatus = evaluated.responseStatus
        origin = evaluated.origin
        responseMatches = evaluated.responseMatches
        responseResponder = evaluated.responseResponder
        response = evaluated.response
        finalStatus = evaluated.finalStatus
        statusAssumed = status == nil
        records = evaluated.records
        logs = evaluated.logs
    }

    private struct Evaluated {
        var facts: ExchangeFacts
        var requestMatches: [Rule]
        var requestResponder: Rule?
        var responseStatus: Int?
        var origin: Origin
        var responseMatches: [Rule]
        var responseResponder: Rule?
        var response: RenderedResponse?
        var finalStatus: Int
        var records: [(rule: Rule, key: String)]
        var logs: [(rule: Rule, line: String)]
    }

    /// The report `attache explain` prints.
    public func text(rulesPath: String, digest: String) -> String {
        var lines: [String] = []
        let path = facts.normalizedPath ?? facts.rawPath
        lines.append("request:  \(facts.method) \(facts.target)")
        if path != facts.rawPath { lines.append("          (matched as \(path))") }
        lines.append("rules:    \(rulesPath) (sha256 \(digest.prefix(12)))")
        lines.append("")
        lines.append("request phase (before the upstream):")
        appendMatches(requestMatches, responder: requestResponder, to: &lines)
        if requestResponder == nil {
            lines.append("  → no rule answers; the request goes to the upstream")
        }
        lines.append("")
        if let responseStatus {
            let assumed = statusAssumed ? "; assumed, pass --status to choose" : ""
            lines.append("response phase (status \(responseStatus) from \(origin.rawValue)\(assumed)):")
            appendMatches(responseMatches, responder: responseResponder, to: &lines)
            if responseResponder == nil {
                lines.append("  → no rule replaces it; the \(origin.rawValue)'s response passes through")
            }
        } else {
            lines.append("response phase: skipped (the request phase answered)")
        }
        lines.append("")
        if let response {
            lines.append("response (rendered by rule '\(facts.respondingRule ?? "?")'):")
            let wire = String(decoding: response.serialized(includeBody: facts.method != "HEAD"), as: UTF8.self)
            for line in wire.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
                lines.append(line.isEmpty ? "" : "  " + line)
            }
            if lines.last == "" { lines.removeLast() }
        } else {
            lines.append("response: \(finalStatus) from the \(origin.rawValue), passed through unchanged")
        }
        lines.append("")
        lines.append("record:")
        if records.isEmpty { lines.append("  (none)") }
        for (rule, key) in records { lines.append("  \(rule.name): key \"\(key)\"") }
        lines.append("log:")
        if logs.isEmpty { lines.append("  (none)") }
        for (rule, line) in logs { lines.append("  \(rule.name): \(line)") }
        return lines.joined(separator: "\n")
    }

    private func appendMatches(_ matches: [Rule], responder: Rule?, to lines: inout [String]) {
        if matches.isEmpty { lines.append("  no respond rule matches") }
        let width = matches.map(\.name.count).max() ?? 0
        for rule in matches {
            let name = rule.name.padding(to: width)
            let verdict = rule.index == responder?.index ? "responds" : "also matches (an earlier rule wins)"
            lines.append("  \(name)  \(verdict)  [\(rule.location)]")
        }
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
