import AttacheRules
import ArgumentParser

/// `attache lint PATH…`: loads each path exactly as `attache run --rules PATH` would and prints
/// compiler-style diagnostics. Exit status: 0 no errors, 1 errors, 2 usage or I/O problems.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check rule files and print diagnostics.",
        discussion: """
            Each PATH is a rules file or a rules directory, checked as one rule set. A directory \
            holding no rule files but subdirectories that do (like samples/) is checked as one \
            rule set per subdirectory.
            Exit status: 0 when there are no errors, 1 when there are, 2 for usage or I/O problems.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Argument(help: "Rules files or directories.")
    var paths: [String]

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let loader = RuleLoader()
        var checked: [(path: String, outcome: RuleLoader.Outcome)] = []
        for path in paths {
            for set in Self.ruleSets(at: path) {
                checked.append((set, loader.load(path: set)))
            }
        }
        let diagnostics = checked.flatMap(\.outcome.diagnostics)
        switch format {
        case .text:
            for diagnostic in diagnostics { print(diagnostic.renderedWithNotes) }
            for (path, outcome) in checked {
                let rules = outcome.table?.rules.count
                print(
                    "\(path): \(outcome.files.count) \(Self.plural(outcome.files.count, "file"))"
                        + (rules.map { ", \($0) \(Self.plural($0, "rule"))" } ?? "")
                        + ", \(Self.count(outcome.diagnostics.errorCount, "error")), \(Self.count(outcome.diagnostics.warningCount, "warning"))"
                )
            }
        case .json:
            print(LintReport(sets: checked.map { ($0.path, $0.outcome) }).json())
        }
        if diagnostics.contains(where: { $0.code == .unreadable }) { throw ExitCode(2) }
        if diagnostics.hasErrors { throw ExitCode(1) }
    }

    /// The rule sets under `path`: the path itself, or its subdirectories when it is a directory
    /// of rule-set directories.
    static func ruleSets(at path: String) -> [String] {
        guard RuleLoader.isDirectory(path), (try? RuleLoader.ruleFiles(in: path))?.isEmpty == true else {
            return [path]
        }
        let sets = RuleLoader.subdirectories(of: path).filter {
            (try? RuleLoader.ruleFiles(in: $0))?.isEmpty == false
        }
        return sets.isEmpty ? [path] : sets
    }

    static func plural(_ count: Int, _ word: String) -> String { count == 1 ? word : word + "s" }
    static func count(_ count: Int, _ word: String) -> String { "\(count) \(plural(count, word))" }
}
