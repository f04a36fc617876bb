import Testing

@testable import AttacheRules

/// One case per diagnostic code that a single in-memory file can trigger, with the exact
/// position and message. (File-system codes are in `LoaderTests`.)
@Suite struct DiagnosticTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var code: DiagnosticCode
        var yaml: String
        var expected: [String]
        var testDescription: String { code.rawValue }
    }

    static let cases: [Case] = [
        Case(code: .yamlSyntax, yaml: "rules:\n  - name: a\n   log: x\n", expected: [
            "rules.yaml:3:4: error: did not find expected '-' indicator [A001]"
        ]),
        Case(code: .duplicateKey, yaml: "rules:\n  - name: a\n    log: x\n    log: y\n", expected: [
            "rules.yaml:4:5: error: duplicate key 'log' [A002]"
        ]),
        Case(code: .multipleDocuments, yaml: "rules: []\n---\n", expected: [
            "rules.yaml:2:1: error: a rules file holds one YAML document; split the documents into separate files [A003]"
        ]),
        Case(code: .nestingTooDeep, yaml: "rules: " + String(repeating: "[", count: 70), expected: [
            "rules.yaml:1:71: error: nesting deeper than 64 levels is not allowed in rules files [A008]"
        ]),
        Case(code: .unsupportedYAML, yaml: "rules: !!set { a }\n", expected: [
            "rules.yaml:1:8: error: tag 'tag:yaml.org,2002:set' is not supported in rules files [A009]"
        ]),
        Case(code: .unknownKey, yaml: "rules:\n  - name: a\n    when:\n      stauts: 404\n    log: x\n", expected: [
            "rules.yaml:4:7: error: unknown key 'stauts' in 'when' (did you mean 'status'?) [A101]"
        ]),
        Case(code: .wrongType, yaml: "rules:\n  - name: a\n    when: { method: { GET: 1 } }\n    log: x\n", expected: [
            "rules.yaml:3:21: error: expected a method name or a list of them, found a mapping [A102]"
        ]),
        Case(code: .missingKey, yaml: "rules:\n  - log: x\n", expected: [
            "rules.yaml:2:5: error: rule has no 'name' [A103]"
        ]),
        Case(code: .invalidStatus, yaml: "rules:\n  - name: a\n    when: { status: [6xx, 99, \"500-400\"] }\n    log: x\n", expected: [
            "rules.yaml:3:22: error: '6xx' is not a status class; classes run from 1xx to 5xx [A104]",
            "rules.yaml:3:27: error: 99 is not a status code (they run from 100 to 599) [A104]",
            "rules.yaml:3:31: error: range '500-400' runs backwards; write 400-500 [A104]",
        ]),
        Case(code: .invalidRegex, yaml: "rules:\n  - name: a\n    when: { path: { regex: \"^/(a\" } }\n    log: x\n", expected: [
            "rules.yaml:3:31: error: invalid regular expression: missing ')' [A105]"
        ]),
        Case(code: .unknownTemplate, yaml: "templates:\n  page: { status: 404 }\nrules:\n  - name: a\n    when: { status: 404 }\n    respond: pgae\n", expected: [
            "rules.yaml:2:3: warning: template 'page' is not used by any rule [A205]",
            "rules.yaml:6:14: error: unknown template 'pgae' (did you mean 'page'?) [A106]",
        ]),
        Case(code: .duplicateRuleName, yaml: "rules:\n  - name: a\n    log: x\n  - name: a\n    log: y\n", expected: [
            "rules.yaml:4:11: error: rule name 'a' is already used [A107]"
        ]),
        Case(code: .noAction, yaml: "rules:\n  - name: a\n    when: { path: /x }\n  - name: b\n    record: false\n", expected: [
            "rules.yaml:2:5: error: rule 'a' has no action: add 'respond', 'record' or 'log' [A108]",
            "rules.yaml:4:5: error: rule 'b' has no action: add 'respond', 'record' or 'log' [A108]",
        ]),
        Case(code: .bodyAndBodyFile, yaml: "rules:\n  - name: a\n    respond: { status: 200, body: x, body_file: y.html }\n", expected: [
            "rules.yaml:3:49: error: 'respond' has both 'body' and 'body_file'; keep one [A109]"
        ]),
        Case(code: .unknownVariable, yaml: "rules:\n  - name: a\n    log: 'at {{ request.pth }}'\n", expected: [
            "rules.yaml:3:17: error: unknown variable 'request.pth' (did you mean 'request.path'?) [A112]"
        ]),
        Case(code: .unknownFilter, yaml: "rules:\n  - name: a\n    log: \"{{ request.path | shout }}\"\n", expected: [
            "rules.yaml:3:29: error: unknown filter 'shout' [A113]"
        ]),
        Case(code: .templateSyntax, yaml: "rules:\n  - name: a\n    log: |\n      first line\n      then {{ request.path\n", expected: [
            "rules.yaml:5:12: error: unterminated '{{' (no matching '}}') [A114]"
        ]),
        Case(code: .invalidMethod, yaml: "rules:\n  - name: a\n    when: { method: \"GE T\" }\n    log: x\n", expected: [
            "rules.yaml:3:21: error: 'GE T' is not a valid method name (RFC 9110 token) [A115]"
        ]),
        Case(code: .invalidPathPattern, yaml: "rules:\n  - name: a\n    when: { path: \"/api/v*/x\" }\n    log: x\n", expected: [
            "rules.yaml:3:26: error: '*' must be a whole segment ('*', '**' or '{name}') [A116]"
        ]),
        Case(code: .invalidHeaderName, yaml: "rules:\n  - name: a\n    when: { headers: { \"x y\": z } }\n    log: x\n", expected: [
            "rules.yaml:3:24: error: 'x y' is not a valid header name [A117]"
        ]),
        Case(code: .unsupportedVersion, yaml: "version: 2\nrules: []\n", expected: [
            "rules.yaml:1:10: error: unsupported rules version '2'; this attache reads version 1 [A118]"
        ]),
        Case(code: .invalidResponseStatus, yaml: "rules:\n  - name: a\n    respond: { status: 101 }\n", expected: [
            "rules.yaml:3:24: error: a response status must be between 200 and 599, not 101 [A120]"
        ]),
        Case(code: .managedHeader, yaml: "rules:\n  - name: a\n    respond: { status: 200, headers: { Content-Length: 3 } }\n", expected: [
            "rules.yaml:3:40: error: 'content-length' is set by attache (framing and connection handling); remove it [A121]"
        ]),
        Case(code: .invalidOrigin, yaml: "rules:\n  - name: a\n    when: { origin: upstreem }\n    log: x\n", expected: [
            "rules.yaml:3:21: error: origin is 'upstream' or 'proxy', not 'upstreem' (did you mean 'upstream'?) [A122]"
        ]),
        Case(code: .invalidRecordOption, yaml: "rules:\n  - name: a\n    record: { history: 5000, max_keys: 0 }\n", expected: [
            "rules.yaml:3:24: error: history must be between 0 and 1000, not 5000 [A123]",
            "rules.yaml:3:40: error: max_keys must be between 1 and 100000, not 0 [A123]",
        ]),
        Case(code: .bodyNotAllowed, yaml: "rules:\n  - name: a\n    respond:\n      status: 304\n      body: nope\n", expected: [
            "rules.yaml:5:13: error: status 304 responses have no body (RFC 9110 §15.3.5, §15.4.5) [A124]"
        ]),
        Case(code: .missingResponseStatus, yaml: "rules:\n  - name: a\n    when: { path: /x }\n    respond: { body: hi }\n", expected: [
            "rules.yaml:4:14: error: rule 'a' answers before the upstream is asked, so its response needs a 'status' [A125]"
        ]),
        Case(code: .invalidHeaderValue, yaml: "rules:\n  - name: a\n    respond: { status: 200, headers: { x-a: \"a\\r\\nb\" } }\n", expected: [
            "rules.yaml:3:47: error: header values cannot contain control characters (CR, LF, NUL, …) [A126]"
        ]),
        Case(code: .emptyList, yaml: "rules:\n  - name: a\n    when: { method: [] }\n    log: x\n", expected: [
            "rules.yaml:3:21: error: an empty list of methods matches nothing [A127]"
        ]),
        Case(code: .unreachableRule, yaml: "rules:\n  - name: api\n    when: { path: /api/** }\n    respond: { status: 503 }\n  - name: orders\n    when: { path: \"/api/orders/{id}\", method: POST }\n    respond: { status: 404 }\n", expected: [
            "rules.yaml:5:5: warning: rule 'orders' never responds: 'api' comes first and responds to everything it matches [A201]"
        ]),
        Case(code: .identicalConditions, yaml: "rules:\n  - name: a\n    when: { path: /x, method: [GET, HEAD] }\n    respond: { status: 503 }\n  - name: b\n    when: { method: [HEAD, GET], path: /x }\n    respond: { status: 404 }\n", expected: [
            "rules.yaml:5:5: warning: rule 'b' has the same conditions as 'a', which comes first and responds; 'b' never responds [A202]"
        ]),
        Case(code: .methodCase, yaml: "rules:\n  - name: a\n    when: { method: [GET, post] }\n    log: x\n", expected: [
            "rules.yaml:3:27: warning: method names are case-sensitive: 'post' never matches POST requests [A203]"
        ]),
        Case(code: .variableUnavailable, yaml: "rules:\n  - name: a\n    when: { path: /x }\n    respond: { status: 503, body: \"was {{ response.status }}\" }\n", expected: [
            "rules.yaml:4:43: warning: 'response.status' has no value here: rule 'a' answers before there is a response [A204]"
        ]),
        Case(code: .unusedTemplate, yaml: "templates:\n  spare: { status: 500 }\n", expected: [
            "rules.yaml:2:3: warning: template 'spare' is not used by any rule [A205]"
        ]),
        Case(code: .captureUnavailable, yaml: "rules:\n  - name: a\n    when: { path: \"/users/{id}\" }\n    log: \"{{ path.user }}\"\n", expected: [
            "rules.yaml:4:14: warning: 'path.user' has no value here: this rule's path captures no '{user}' [A206]"
        ]),
        Case(code: .dynamicContentType, yaml: "rules:\n  - name: a\n    respond: { status: 200, headers: { content-type: \"{{ request.header.accept }}\" }, body: x }\n", expected: [
            "rules.yaml:3:38: warning: content-type is a template, so values in the body are not escaped for it; use a fixed content-type [A207]"
        ]),
    ]

    @Test(arguments: cases)
    func diagnostic(_ testCase: Case) {
        #expect(diagnostics(testCase.yaml) == testCase.expected)
        #expect(load(testCase.yaml).diagnostics.contains { $0.code == testCase.code })
    }

    @Test func duplicateTemplateNameAcrossFiles() {
        let outcome = RuleLoader().load(
            sources: [
                SourceFile(path: "a.yaml", text: "templates:\n  page: { status: 404 }\nrules:\n  - { name: r, when: { status: 404 }, respond: page }\n"),
                SourceFile(path: "b.yaml", text: "templates:\n  page: { status: 410 }\n"),
            ], rulesRoot: nil)
        #expect(outcome.diagnostics.map(\.renderedWithNotes) == [
            "b.yaml:2:3: error: template 'page' is defined twice [A119]\na.yaml:2:3: note: 'page' first defined here"
        ])
    }

    @Test func duplicateRuleNameAcrossFilesHasANote() {
        let outcome = RuleLoader().load(
            sources: [
                SourceFile(path: "a.yaml", text: "rules:\n  - name: access\n    log: x\n"),
                SourceFile(path: "b.yaml", text: "rules:\n  - name: other\n    log: x\n  - name: access\n    log: y\n"),
            ], rulesRoot: nil)
        #expect(outcome.diagnostics.map(\.renderedWithNotes) == [
            "b.yaml:4:11: error: rule name 'access' is already used [A107]\na.yaml:2:11: note: 'access' first used here"
        ])
        #expect(outcome.table == nil)
    }

    @Test func headerNamesRepeatedInAnotherCase() {
        let yaml = """
            rules:
              - name: a
                when: { headers: { Accept: x, accept: y } }
                respond: { status: 200, headers: { X-A: "1", x-a: "2" } }
            """
        #expect(load(yaml).diagnostics.map(\.renderedWithNotes) == [
            "rules.yaml:3:35: error: header 'accept' has two conditions (names are case-insensitive) [A002]\nrules.yaml:3:24: note: first condition here",
            "rules.yaml:4:50: error: header 'x-a' is set twice (names are case-insensitive) [A002]\nrules.yaml:4:40: note: first set here",
        ])
    }

    @Test func aliasExpansionThroughTheLoader() {
        let limits = YAMLReader.Limits(maximumExpandedNodes: 50)
        let yaml = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a, *a]\nrules: []\n"
        let outcome = RuleLoader(limits: limits).load(text: yaml)
        #expect(outcome.diagnostics.map(\.description) == [
            "rules.yaml:2:24: error: the document expands to more than 50 nodes once aliases are resolved; refusing to read further [A004]"
        ])
    }

    @Test func templateErrorsInsideDoubleQuotedEscapesPointAtTheRightColumn() {
        // `\"` and `\u00e9` take more columns in the file than characters in the value.
        let yaml = "rules:\n  - name: a\n    log: \"\\\"caf\\u00e9\\\" {{ nope }}\"\n"
        #expect(diagnostics(yaml) == [
            "rules.yaml:3:28: error: unknown variable 'nope' [A112]"
        ])
    }

    @Test func templateErrorsInsideFoldedBlocks() {
        let yaml = "rules:\n  - name: a\n    log: >\n      one\n      two {{ x | y }}\n"
        #expect(diagnostics(yaml) == ["rules.yaml:5:14: error: unknown variable 'x' [A112]"])
    }

    @Test func templateErrorsInsideSingleQuotedScalars() {
        let yaml = "rules:\n  - name: a\n    log: 'it''s {{ request.path | default(x) }}'\n"
        #expect(diagnostics(yaml) == [
            "rules.yaml:3:43: error: expected a quoted string as the argument of 'default' [A114]"
        ])
    }

    @Test func mergeKeysApplyAndExplicitKeysWin() throws {
        let yaml = """
            templates:
              base: &base
                status: 503
                headers: { retry-after: "60" }
                body: busy
            rules:
              - name: a
                when: { path: /x }
                respond: { <<: *base, status: 502 }
            """
        let table = try table(yaml)
        let response = try #require(table.rules[0].respond)
        #expect(response.status == 502)
        #expect(response.headers.map(\.name) == ["retry-after", "content-type"])
        #expect(load(yaml).diagnostics.map(\.description) == [
            "rules.yaml:2:3: warning: template 'base' is not used by any rule [A205]"
        ])
    }
}
