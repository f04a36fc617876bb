import Foundation
import Testing

@testable import AttacheRules

/// docs/rules.schema.json (for editors) and the decoder accept exactly the same keys.
struct SchemaTests {
    static func schema() throws -> [String: Any] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/rules.schema.json")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    }

    /// The keys of an object schema, or of the object alternatives of a `oneOf`.
    static func keys(_ schema: [String: Any]) -> Set<String> {
        var keys = Set((schema["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
        for alternative in schema["oneOf"] as? [[String: Any]] ?? [] { keys.formUnion(Self.keys(alternative)) }
        return keys
    }

    @Test func schemaAndDecoderAgreeOnEveryKey() throws {
        let schema = try Self.schema()
        let definitions = try #require(schema["definitions"] as? [String: [String: Any]])
        let pairs: [(String, Set<String>, [String])] = [
            ("top level", Self.keys(schema), RuleLanguageKeys.topLevel),
            ("rule", Self.keys(try #require(definitions["rule"])), RuleLanguageKeys.rule),
            ("when", Self.keys(try #require(definitions["when"])), RuleLanguageKeys.when),
            ("path pattern", Self.keys(try #require(definitions["pathPattern"])), RuleLanguageKeys.pathPattern),
            ("header condition", Self.keys(try #require(definitions["headerCondition"])), RuleLanguageKeys.headerCondition),
            ("record", Self.keys(try #require(definitions["record"])), RuleLanguageKeys.record),
            ("response", Self.keys(try #require(definitions["response"])), RuleLanguageKeys.response),
        ]
        for (name, schemaKeys, decoderKeys) in pairs {
            #expect(schemaKeys == Set(decoderKeys), "\(name)")
        }
        // Every object in the schema is closed, like the decoder (unknown keys are errors).
        for (name, definition) in definitions where (definition["type"] as? String) == "object" {
            #expect(definition["additionalProperties"] as? Bool == false, "\(name)")
        }
    }

    @Test func limitsInTheSchemaAreTheDecoders() throws {
        let record = try #require(
            (try Self.schema()["definitions"] as? [String: [String: Any]])?["record"]?["properties"] as? [String: [String: Any]])
        #expect(record["history"]?["maximum"] as? Int == 1000)
        #expect(record["max_keys"]?["maximum"] as? Int == 100_000)
        // The decoder's bounds, by the diagnostics it gives just past them.
        let outcome = RuleLoader().load(text: "rules:\n  - name: r\n    record: { history: 1001, max_keys: 100001 }\n")
        #expect(outcome.diagnostics.map(\.message) == [
            "history must be between 0 and 1000, not 1001", "max_keys must be between 1 and 100000, not 100001",
        ])
    }
}
