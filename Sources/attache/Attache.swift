import ArgumentParser

@main
struct Attache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attache",
        abstract: "A sidecar HTTP/1.1 proxy driven by declarative YAML rules.",
        subcommands: [RunCommand.self, LintCommand.self, ExplainCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
