import Testing

@testable import AttacheRules

@Suite struct YAMLReaderTests {
    func read(_ text: String, limits: YAMLReader.Limits = YAMLReader.Limits()) -> YAMLReader.Result {
        YAMLReader(limits: limits).read(SourceFile(path: "t.yaml", text: text))
    }

    @Test func nodesKeepLineAndColumn() throws {
        let result = read("rules:\n  - name: a\n    when: { path: /x }\n")
        #expect(result.diagnostics.isEmpty)
        let root = try #require(result.root?.mapping)
        #expect(root[0].key.location.description == "t.yaml:1:1")
        let rule = try #require(root[0].value.sequence?.first?.mapping)
        #expect(rule[0].key.location.description == "t.yaml:2:5")
        #expect(rule[0].value.location.description == "t.yaml:2:11")
        let when = try #require(rule[1].value.mapping)
        #expect(when[0].value.location.description == "t.yaml:3:19")
        #expect(when[0].value.scalar?.value == "/x")
    }

    @Test func scalarsResolveByTheCoreSchema() throws {
        let root = try #require(read("a: 404\nb: '404'\nc: true\nd: yes\ne: ~\nf: 0x1F\ng: 1.5\nh:\n").root?.mapping)
        let values = root.map { $0.value.scalar!.resolved }
        #expect(values == [.int(404), .string("404"), .bool(true), .string("yes"), .null, .int(31), .float(1.5), .null])
    }

    @Test func anchorsAndAliasesShareNodes() throws {
        let root = try #require(read("a: &x [1, 2]\nb: *x\n").root?.mapping)
        #expect(root[0].value === root[1].value)
        #expect(root[1].value.sequence?.count == 2)
    }

    @Test func billionLaughsFailsFast() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        let result = read(text)
        #expect(result.root == nil)
        #expect(
            result.diagnostics.map(\.description) == [
                "t.yaml:6:55: error: the document expands to more than 1000000 nodes once aliases are resolved; refusing to read further [A004]"
            ])
    }

    @Test func duplicateKeysAreErrorsWithTheFirstPosition() {
        let result = read("rules: []\nversion: 1\nrules: []\n")
        #expect(result.diagnostics.map(\.renderedWithNotes) == [
            "t.yaml:3:1: error: duplicate key 'rules' [A002]\nt.yaml:1:1: note: 'rules' first defined here"
        ])
    }

    @Test func secondDocumentIsAnError() {
        let result = read("rules: []\n---\nrules: []\n")
        #expect(result.diagnostics.map(\.description) == [
            "t.yaml:2:1: error: a rules file holds one YAML document; split the documents into separate files [A003]"
        ])
    }

    @Test func invalidUTF8PointsAtTheByte() {
        var bytes = Array("rules:\n  - name: ab".utf8)
        bytes.append(0xC3)
        bytes.append(0x28)
        let result = YAMLReader().read(SourceFile(path: "t.yaml", bytes: bytes))
        #expect(result.diagnostics.map(\.description) == [
            "t.yaml:2:13: error: file is not valid UTF-8 (byte 0xC3 at offset 19); save it as UTF-8 [A005]"
        ])
    }

    @Test func utf16IsRefused() {
        let result = YAMLReader().read(SourceFile(path: "t.yaml", bytes: [0xFF, 0xFE, 0x61, 0x00]))
        #expect(result.diagnostics.map(\.code) == [.invalidEncoding])
    }

    @Test func sizeLimit() {
        let result = read("a: 1234567890\n", limits: YAMLReader.Limits(maximumFileSize: 8))
        #expect(result.diagnostics.map(\.description) == [
            "t.yaml:1:1: error: file is larger than 8 bytes, the limit for rules files [A006]"
        ])
    }

    @Test func syntaxErrorsReportProblemAndContext() {
        let result = read("rules:\n  - name: a\n    when: [1, 2\n")
        #expect(result.diagnostics.map(\.renderedWithNotes) == [
            "t.yaml:4:1: error: did not find expected ',' or ']' [A001]\nt.yaml:3:11: note: while parsing a flow sequence"
        ])
    }

    @Test func tabIndentationIsASyntaxError() {
        let result = read("rules:\n\t- name: a\n")
        #expect(result.diagnostics.first?.code == .yamlSyntax)
        #expect(result.diagnostics.first?.location?.line == 2)
    }

    @Test func deepNestingIsRefused() {
        let result = read(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        #expect(result.diagnostics.map(\.description) == [
            "t.yaml:1:65: error: nesting deeper than 64 levels is not allowed in rules files [A008]"
        ])
    }

    @Test func unknownTagsAreRefused() {
        let result = read("a: !custom x\n")
        #expect(result.diagnostics.map(\.description) == [
            "t.yaml:1:4: error: tag '!custom' is not supported in rules files [A009]"
        ])
    }

    @Test func undefinedAliasIsAnError() {
        let result = read("a: *nope\n")
        #expect(result.diagnostics.map(\.code) == [.yamlSyntax])
    }

    @Test func complexKeysAreRefused() {
        let result = read("? [a, b]\n: 1\n")
        #expect(result.diagnostics.map(\.description) == [
            "t.yaml:1:3: error: mapping keys must be plain text, not a list [A009]"
        ])
    }

    @Test func emptyFileHasNoRoot() {
        let result = read("")
        #expect(result.root == nil)
        #expect(result.diagnostics.isEmpty)
    }

    /// Random bytes and every truncation of a real file: the reader must return, never crash.
    @Test func randomAndTruncatedInputNeverCrashes() throws {
        let sample = """
            version: 1
            templates:
              t: &base { status: 404, headers: { x: "y" }, body: "{{ request.path }}" }
            rules:
              - name: a
                when: { status: [404, "5xx"], path: ["/a/**", {prefix: /b}] }
                respond: { <<: *base, status: 410 }
              - name: "b"
                log: |
                  {{ request.method }} {{ response.status }}
            """
        let bytes = Array(sample.utf8)
        for length in 0...bytes.count {
            _ = RuleLoader().load(sources: [SourceFile(path: "t.yaml", bytes: Array(bytes[0..<length]))], rulesRoot: nil)
        }
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("ab:- \n\t[]{}&*!|>'\"#%@`,?{{}}\u{0}\u{7F}é".utf8)
        for _ in 0..<2000 {
            let length = Int(generator.next() % 200)
            var random: [UInt8] = []
            for _ in 0..<length {
                random.append(
                    generator.next() % 4 == 0
                        ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))])
            }
            _ = RuleLoader().load(sources: [SourceFile(path: "r.yaml", bytes: random)], rulesRoot: nil)
        }
    }
}

/// A small deterministic generator, so random tests replay exactly.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
