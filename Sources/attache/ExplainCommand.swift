import AttacheRules
import ArgumentParser

/// `attache explain`: evaluates one request against a rule set and shows, phase by phase, which
/// rules match, which one answers, the fully rendered response, and the record keys and log
/// lines the exchange would produce.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what the rules do with one request."
    )

    @Option(help: "Rules file or directory.")
    var rules: String = "rules"

    @Option(help: "Request method.")
    var method: String = "GET"

    @Option(help: "Request target: a path, optionally with ?query.")
    var path: String

    @Option(help: "Status the upstream (or attache) answers with; default: 200 from the upstream.")
    var status: Int?

    @Option(help: "Who produced the status: upstream or proxy.")
    var origin: String = "upstream"

    @Option(name: .customLong("header"), help: "A request header as name=value (repeatable).")
    var headers: [String] = []

    @Option(help: "The client address for client.ip.")
    var clientIP: String = "127.0.0.1"

    func validate() throws {
        guard Origin(rawValue: origin) != nil else {
            throw ValidationError("--origin is 'upstream' or 'proxy', not '\(origin)'")
        }
        if let status, !(100...599).contains(status) {
            throw ValidationError("--status must be between 100 and 599")
        }
        for header in headers where !header.contains("=") {
            throw ValidationError("--header takes name=value, not '\(header)'")
        }
        guard path.hasPrefix("/") || path == "*" else {
            throw ValidationError("--path must start with '/'")
        }
    }

    func run() throws {
        let outcome = RuleLoader().load(path: rules)
        for diagnostic in outcome.diagnostics where diagnostic.severity == .error {
            printError(diagnostic.renderedWithNotes)
        }
        guard let table = outcome.table else {
            printError("explain: '\(rules)' has errors; fix them first (attache lint \(rules))")
            throw ExitCode(outcome.diagnostics.contains { $0.code == .unreadable } ? 2 : 1)
        }
        let requestHeaders = headers.map { header in
            let parts = header.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (name: String(parts[0]), value: String(parts[1]))
        }
        var facts = ExchangeFacts(method: method, target: path, requestHeaders: requestHeaders)
        facts.clientIP = clientIP
        facts.hostName = "explain"
        facts.requestID = "explain"
        facts.upstreamAddress = "upstream"
        facts.durationNanoseconds = 0
        facts.upstreamNanoseconds = 0
        let now = SystemClock.now()
        facts.epochSeconds = now.seconds
        facts.epochNanoseconds = now.nanoseconds
        guard let explanation = Explanation(table: table, facts: facts, status: status,
                                             origin: Origin(rawValue: origin) ?? .upstream)
        else {
            printError("explain: the path '\(path)' has invalid percent-encoding; attache answers such requests with 400")
            throw ExitCode(1)
        }
        print(explanation.text(rulesPath: rules, digest: table.ruleSet.digest))
    }
}

func printError(_ message: String) {
    var standardError = StandardError()
    print(message, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileOutput.write(string, to: 2)
    }
}
