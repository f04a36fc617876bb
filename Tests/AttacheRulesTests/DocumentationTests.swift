import Foundation
import Testing

@testable import AttacheRules

/// docs/rules.md is the reference users read: it must list every diagnostic code, variable and
/// filter the code knows.
@Suite struct DocumentationTests {
    static let reference: String = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/rules.md").path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }()

    @Test(arguments: DiagnosticCode.allCases)
    func everyDiagnosticCodeHasARow(_ code: DiagnosticCode) {
        let severity = code.rawValue.hasPrefix("A2") || code == .noRuleFiles ? "warning" : "error"
        #expect(Self.reference.contains("<a id=\"\(code.rawValue.lowercased())\"></a>\(code.rawValue) | \(severity) |"))
    }

    @Test func everyVariableIsDocumented() {
        for name in TemplateVariable.fixedNames.keys.sorted() + ["request.header.NAME", "response.header.NAME", "path.NAME"] {
            #expect(Self.reference.contains("| `\(name)` |"), "\(name)")
        }
    }

    @Test func everyFilterIsDocumented() {
        for name in TemplateFilter.names where name != "upper" && name != "lower" && name != "default" {
            #expect(Self.reference.contains("| `\(name)` |"), "\(name)")
        }
        #expect(Self.reference.contains("| `upper` / `lower` |"))
        #expect(Self.reference.contains("| `default(\"text\")` |"))
    }
}
