import Foundation
import Testing

@testable import AttacheRules

/// Loading from the file system: directory order, ConfigMap symlink layouts, `body_file`
/// containment, and the digest.
@Suite struct LoaderTests {
    /// A fresh temporary directory, removed when the test ends.
    final class TemporaryDirectory {
        let path: String

        init() throws {
            path = NSTemporaryDirectory() + "attache-tests-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func write(_ name: String, _ text: String) throws {
            let url = URL(fileURLWithPath: path + "/" + name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }

        func link(_ name: String, to target: String) throws {
            try FileManager.default.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: target)
        }
    }

    @Test func directoryOrderSkipsDotFilesAndOtherNames() throws {
        let directory = try TemporaryDirectory()
        try directory.write("b.yaml", "rules:\n  - { name: b, log: x }\n")
        try directory.write("a.yml", "rules:\n  - { name: a, log: x }\n")
        try directory.write("B.yaml", "rules:\n  - { name: upper-b, log: x }\n")
        try directory.write(".hidden.yaml", "rules: [oops]\n")
        try directory.write("notes.txt", "not yaml")
        try directory.write("sub/c.yaml", "rules: [oops]\n")
        let outcome = RuleLoader().load(path: directory.path)
        #expect(outcome.diagnostics.isEmpty)
        #expect(outcome.files == ["B.yaml", "a.yml", "b.yaml"].map { directory.path + "/" + $0 })
        #expect(outcome.table?.rules.map(\.name) == ["upper-b", "a", "b"])
    }

    /// Kubernetes mounts a ConfigMap as `name -> ..data/name`, `..data -> ..<timestamp>`.
    @Test func configMapLayoutLoadsThroughSymlinks() throws {
        let directory = try TemporaryDirectory()
        try directory.write("..2026_11_26_14_00_00.123/site.yaml", """
            rules:
              - name: gone
                when: { status: 404 }
                respond: { body_file: page.html, headers: { content-type: text/html } }
            """)
        try directory.write("..2026_11_26_14_00_00.123/page.html", "<p>{{ request.path }}</p>\n")
        try directory.link("..data", to: "..2026_11_26_14_00_00.123")
        try directory.link("site.yaml", to: "..data/site.yaml")
        try directory.link("page.html", to: "..data/page.html")
        let outcome = RuleLoader().load(path: directory.path)
        #expect(outcome.diagnostics.isEmpty)
        #expect(outcome.files == [directory.path + "/site.yaml"])
        let table = try #require(outcome.table)
        #expect(table.ruleSet.bodyFiles == [directory.path + "/page.html"])
        let response = try #require(table.rules.first?.respond)
        let rendered = response.render(ExchangeFacts(method: "GET", target: "/a<b"), matchedStatus: 404)
        #expect(String(decoding: rendered.body, as: UTF8.self) == "<p>/a&lt;b</p>\n")
        #expect(rendered.status == 404)
    }

    @Test func bodyFileMustStayInsideTheRulesDirectory() throws {
        let outside = try TemporaryDirectory()
        try outside.write("secret.html", "secret")
        let directory = try TemporaryDirectory()
        try directory.write("rules/site.yaml", """
            rules:
              - { name: a, respond: { status: 200, body_file: ../../\(URL(fileURLWithPath: outside.path).lastPathComponent)/secret.html } }
              - { name: b, respond: { status: 200, body_file: /etc/passwd } }
              - { name: c, respond: { status: 200, body_file: missing.html } }
              - { name: d, respond: { status: 200, body_file: escape.html } }
            """)
        try directory.link("rules/escape.html", to: outside.path + "/secret.html")
        let rules = directory.path + "/rules"
        let root = try #require(FileSystem.realPath(rules))
        let outsideReal = try #require(FileSystem.realPath(outside.path + "/secret.html"))
        let outcome = RuleLoader().load(path: rules)
        #expect(outcome.diagnostics.map(\.description) == [
            "\(rules)/site.yaml:2:51: error: body_file '../../\(URL(fileURLWithPath: outside.path).lastPathComponent)/secret.html' resolves to '\(outsideReal)', outside the rules directory '\(root)' [A111]",
            "\(rules)/site.yaml:3:51: error: body_file '/etc/passwd' resolves to '/etc/passwd', outside the rules directory '\(root)' [A111]",
            "\(rules)/site.yaml:4:51: error: body_file 'missing.html' does not exist (looked for '\(rules)/missing.html') [A110]",
            "\(rules)/site.yaml:5:51: error: body_file 'escape.html' resolves to '\(outsideReal)', outside the rules directory '\(root)' [A111]",
        ])
        #expect(outcome.table == nil)
    }

    @Test func templateErrorsInBodyFilesPointIntoTheBodyFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("site.yaml", "rules:\n  - { name: a, respond: { status: 200, body_file: page.html } }\n")
        try directory.write("page.html", "<h1>\n  é {{ request.nope }}\n")
        let outcome = RuleLoader().load(path: directory.path)
        #expect(outcome.diagnostics.map(\.description) == [
            "\(directory.path)/page.html:2:8: error: unknown variable 'request.nope' (did you mean 'request.host'?) [A112]"
        ])
    }

    @Test func missingPathIsAnIOError() {
        let outcome = RuleLoader().load(path: "/nonexistent/attache-rules")
        #expect(outcome.diagnostics.map(\.description) == [
            "error: rules path '/nonexistent/attache-rules' does not exist [A007]"
        ])
        #expect(outcome.table == nil)
    }

    @Test func emptyDirectoryIsAValidPureRelay() throws {
        let directory = try TemporaryDirectory()
        let outcome = RuleLoader().load(path: directory.path)
        #expect(outcome.diagnostics.map(\.description) == [
            "warning: no rule files (*.yaml, *.yml) in '\(directory.path)': attache relays without rules [A010]"
        ])
        #expect(outcome.table?.rules.count == 0)
    }

    @Test func oversizedFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        try directory.write("big.yaml", "# " + String(repeating: "x", count: 5 << 20) + "\n")
        let outcome = RuleLoader().load(path: directory.path)
        #expect(outcome.diagnostics.map(\.description) == [
            "\(directory.path)/big.yaml:1:1: error: file is 5242883 bytes, over the 4194304-byte limit for rules files [A006]"
        ])
    }

    @Test func digestCoversRuleFilesAndBodyFiles() throws {
        let directory = try TemporaryDirectory()
        try directory.write("site.yaml", "rules:\n  - { name: a, respond: { status: 200, body_file: page.html } }\n")
        try directory.write("page.html", "one")
        let first = try #require(RuleLoader().load(path: directory.path).table?.ruleSet.digest)
        #expect(RuleLoader().load(path: directory.path).table?.ruleSet.digest == first)
        try directory.write("page.html", "two")
        let second = try #require(RuleLoader().load(path: directory.path).table?.ruleSet.digest)
        #expect(second != first)
        #expect(first.count == 64)
    }

    @Test func singleFileRootIsItsDirectory() throws {
        let directory = try TemporaryDirectory()
        try directory.write("site.yaml", "rules:\n  - { name: a, respond: { status: 200, body_file: page.html } }\n")
        try directory.write("page.html", "hello")
        let outcome = RuleLoader().load(path: directory.path + "/site.yaml")
        #expect(outcome.diagnostics.isEmpty)
        #expect(outcome.table?.rules.first?.respond?.body?.text == "hello")
    }
}
