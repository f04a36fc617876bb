import Foundation
import Testing

/// Runs the real `attache` binary (built next to this test bundle) the way a user does.
@Suite struct CLITests {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static var binary: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("attache").path
    }

    func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Self.repository)
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
            error: String(decoding: errData, as: UTF8.self))
    }

    func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "attache-cli-\(UUID().uuidString).yaml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func lintOfTheShippedRulesAndSamplesIsClean() throws {
        let result = try run(["lint", "rules", "samples"])
        #expect(result.status == 0)
        #expect(result.output == """
            rules: 1 file, 3 rules, 0 errors, 0 warnings
            samples/friendly-404: 1 file, 2 rules, 0 errors, 0 warnings
            samples/json-api-errors: 1 file, 4 rules, 0 errors, 0 warnings
            samples/maintenance: 1 file, 3 rules, 0 errors, 0 warnings
            samples/profiler: 1 file, 4 rules, 0 errors, 0 warnings

            """)
    }

    @Test func lintOfABrokenFileExitsOneWithPositions() throws {
        let path = try temporaryFile("rules:\n  - name: a\n    when:\n      stauts: 404\n    log: x\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try run(["lint", path])
        #expect(result.status == 1)
        #expect(result.output == """
            \(path):4:7: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]
            \(path): 1 file, 0 errors, 0 warnings

            """.replacingOccurrences(of: "0 errors", with: "1 error"))
    }

    @Test func lintJSONOutput() throws {
        let path = try temporaryFile("rules:\n  - { name: a, when: { method: get }, log: x }\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try run(["lint", "--format", "json", path])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["errors"] as? Int == 0)
        #expect(object["warnings"] as? Int == 1)
        let diagnostic = try #require((object["diagnostics"] as? [[String: Any]])?.first)
        #expect(diagnostic["code"] as? String == "A203")
        #expect(diagnostic["line"] as? Int == 2)
        #expect(diagnostic["column"] as? Int == 32)
        #expect(diagnostic["severity"] as? String == "warning")
    }

    @Test func lintOfAMissingPathExitsTwo() throws {
        let result = try run(["lint", "/nonexistent/rules"])
        #expect(result.status == 2)
        #expect(result.output.hasPrefix("error: rules path '/nonexistent/rules' does not exist [A007]\n"))
    }

    @Test func lintWithoutPathsIsAUsageError() throws {
        #expect(try run(["lint"]).status == 64)
    }

    @Test func explainPrintsTheFriendlyPage() throws {
        let result = try run(["explain", "--rules", "rules/default.yaml", "--path", "/missing", "--status", "404"])
        #expect(result.status == 0)
        #expect(result.output.contains("friendly-404  responds  [rules/default.yaml:25:5]"))
        #expect(result.output.contains("  HTTP/1.1 404 Not Found\n  content-type: text/html; charset=utf-8\n  server: Sitio\n"))
        #expect(result.output.contains("  <h1>Endpoint Not Found</h1>\n  <p>GET /missing is not here.</p>\n"))
        #expect(result.output.hasSuffix("log:\n  access: GET /missing 404 0.000ms\n"))
    }

    @Test func explainRefusesBrokenRules() throws {
        let path = try temporaryFile("rules: [1]\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try run(["explain", "--rules", path, "--path", "/"])
        #expect(result.status == 1)
        #expect(result.error == """
            \(path):1:9: error: expected a rule (a mapping with 'name' and actions), found a number [A102]
            explain: '\(path)' has errors; fix them first (attache lint \(path))

            """)
    }
}
