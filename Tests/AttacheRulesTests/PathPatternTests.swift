import Testing

@testable import AttacheRules

@Suite struct PathPatternTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var pattern: String
        var path: String
        /// `nil`: no match; otherwise the captures, in order.
        var captures: [String]?
        var testDescription: String { "\(pattern) ~ \(path)" }
    }

    static let globCases: [Case] = [
        // exact
        Case(pattern: "/", path: "/", captures: []),
        Case(pattern: "/", path: "/a", captures: nil),
        Case(pattern: "/api", path: "/api", captures: []),
        Case(pattern: "/api", path: "/api/", captures: nil),
        Case(pattern: "/api/", path: "/api/", captures: []),
        Case(pattern: "/api", path: "/apis", captures: nil),
        Case(pattern: "/a//b", path: "/a//b", captures: []),
        Case(pattern: "/a//b", path: "/a/b", captures: nil),
        // `*`: exactly one non-empty segment
        Case(pattern: "/*", path: "/x", captures: []),
        Case(pattern: "/*", path: "/", captures: nil),
        Case(pattern: "/*", path: "/x/y", captures: nil),
        Case(pattern: "/a/*/c", path: "/a/b/c", captures: []),
        Case(pattern: "/a/*/c", path: "/a//c", captures: nil),
        // `**`: any number of segments, none included
        Case(pattern: "/**", path: "/", captures: []),
        Case(pattern: "/**", path: "/a/b/c", captures: []),
        Case(pattern: "/api/**", path: "/api", captures: []),
        Case(pattern: "/api/**", path: "/api/", captures: []),
        Case(pattern: "/api/**", path: "/api/v1/users", captures: []),
        Case(pattern: "/api/**", path: "/apis", captures: nil),
        Case(pattern: "/**/edit", path: "/edit", captures: []),
        Case(pattern: "/**/edit", path: "/a/b/edit", captures: []),
        Case(pattern: "/**/edit", path: "/a/b/edit/x", captures: nil),
        Case(pattern: "/a/**/b/**/c", path: "/a/x/b/y/z/c", captures: []),
        Case(pattern: "/a/**/**/c", path: "/a/c", captures: []),
        // `{name}` captures
        Case(pattern: "/users/{id}", path: "/users/42", captures: ["42"]),
        Case(pattern: "/users/{id}", path: "/users/", captures: nil),
        Case(pattern: "/users/{id}/posts/{post}", path: "/users/7/posts/x-1", captures: ["7", "x-1"]),
        Case(pattern: "/**/{name}", path: "/a/b/c", captures: ["c"]),
        Case(pattern: "/**/{id}/**", path: "/a/b/c", captures: ["a"]),
        Case(pattern: "/files/{f}/**", path: "/files/r%2Fs/t", captures: ["r%2Fs"]),
        // literal segments are normalized like request paths
        Case(pattern: "/%7Euser", path: "/~user", captures: []),
        Case(pattern: "/caf%c3%a9", path: "/caf%C3%A9", captures: []),
        Case(pattern: "/café", path: "/caf%C3%A9", captures: []),
    ]

    @Test(arguments: globCases)
    func glob(_ testCase: Case) throws {
        let pattern = try PathPattern.glob(testCase.pattern)
        var ranges: [Range<Int>] = []
        let bytes = Array(testCase.path.utf8)
        let matched = bytes.withUnsafeBytes { pattern.matches($0, captures: &ranges) }
        let captures = ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect((matched ? captures : nil) == testCase.captures)
    }

    static let prefixCases: [Case] = [
        Case(pattern: "/api", path: "/api", captures: []),
        Case(pattern: "/api", path: "/apis", captures: []),
        Case(pattern: "/api", path: "/api/x", captures: []),
        Case(pattern: "/api/", path: "/api", captures: nil),
        Case(pattern: "/api/", path: "/api/x", captures: []),
        Case(pattern: "/ap", path: "/b", captures: nil),
        Case(pattern: "/%7e", path: "/~x", captures: []),
    ]

    @Test(arguments: prefixCases)
    func prefix(_ testCase: Case) throws {
        let pattern = try PathPattern.prefix(testCase.pattern)
        #expect(pattern.matches(testCase.path) == (testCase.captures != nil))
    }

    @Test func regexSearchesAndCapturesNamedGroups() throws {
        let pattern = try PathPattern.regex("^/v(?<version>[0-9]+)/(?P<rest>.*)$")
        #expect(pattern.captureNames == ["version", "rest"])
        var ranges: [Range<Int>] = []
        let bytes = Array("/v12/a/b".utf8)
        #expect(bytes.withUnsafeBytes { pattern.matches($0, captures: &ranges) })
        #expect(ranges.map { String(decoding: bytes[$0], as: UTF8.self) } == ["12", "a/b"])
        #expect(try PathPattern.regex("[0-9]{3}").matches("/x/404/y"))
        #expect(try !PathPattern.regex("^/v[0-9]+/").matches("/vx/"))
    }

    @Test(arguments: [
        ("api", "a path pattern starts with '/'", 0),
        ("/a/../b", "'..' segments never reach rules (paths are normalized first)", 3),
        ("/a/./b", "'.' segments never reach rules (paths are normalized first)", 3),
        ("/a*", "'*' must be a whole segment ('*', '**' or '{name}')", 2),
        ("/x/{1d}", "'1d' is not a capture name (letters, digits and '_', not starting with a digit)", 4),
        ("/{a}/{a}", "capture 'a' appears twice in this pattern", 5),
        ("/a?b=1", "the query string is not part of the path; match it with request.query", 2),
        ("/a b", "' ' cannot appear in a request path; percent-encode it", 2),
        ("/a%zz", "'%' must be followed by two hex digits", 1),
    ])
    func invalidGlobs(_ text: String, _ message: String, _ offset: Int) {
        #expect(throws: PathPattern.ParseError.self) { try PathPattern.glob(text) }
        do {
            _ = try PathPattern.glob(text)
        } catch {
            #expect(error.message == message)
            #expect(error.offset == offset)
        }
    }

    @Test func consecutiveDoubleStarsCollapse() throws {
        guard case .glob(let elements) = try PathPattern.glob("/a/**/**/b").kind else {
            Issue.record("not a glob")
            return
        }
        #expect(elements == [.literal(Array("a".utf8)), .many, .literal(Array("b".utf8))])
    }

    /// A long path against a pattern with several `**` finishes at once (no backtracking blow-up).
    @Test func adversarialPathIsLinear() throws {
        let pattern = try PathPattern.glob("/**/a/**/a/**/a/**/b")
        let path = "/" + Array(repeating: "a", count: 4000).joined(separator: "/")
        #expect(!pattern.matches(path))
    }
}

@Suite struct PathNormalizerTests {
    @Test(arguments: [
        ("/a/b", "/a/b"),
        ("/", "/"),
        ("/%7Euser/%41%62", "/~user/Ab"),
        ("/a%2fb", "/a%2Fb"),
        ("/a%2Fb", "/a%2Fb"),
        ("/a/./b", "/a/b"),
        ("/a/../b", "/b"),
        ("/../../etc/passwd", "/etc/passwd"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/a/%2e%2E/b", "/b"),
        ("/a//b", "/a//b"),
        ("/.hidden/x", "/.hidden/x"),
        ("/a/..b", "/a/..b"),
        ("*", "*"),
    ])
    func normalizes(_ input: String, _ expected: String) {
        #expect(PathNormalizer.normalize(input) == expected)
    }

    @Test(arguments: ["/a%", "/a%2", "/a%g0", "/%%41"])
    func rejectsInvalidPercentEncoding(_ input: String) {
        #expect(PathNormalizer.normalize(input) == nil)
    }

    @Test func unchangedPathsAreNotCopied() {
        var output: [UInt8] = [1, 2, 3]
        let outcome = Array("/plain/path".utf8).withUnsafeBytes { PathNormalizer.normalize($0, into: &output) }
        #expect(outcome == .unchanged)
        #expect(output == [1, 2, 3])
    }
}

@Suite struct StatusAndMethodTests {
    @Test(arguments: [
        ("404", 404...404), ("4xx", 400...499), ("5XX", 500...599), ("500-599", 500...599), ("100 - 199", 100...199),
    ])
    func statusTerms(_ text: String, _ range: ClosedRange<Int>) throws {
        #expect(try StatusSet.parseTerm(text).get() == range)
    }

    @Test(arguments: [
        ("6xx", "'6xx' is not a status class; classes run from 1xx to 5xx"),
        ("99", "99 is not a status code (they run from 100 to 599)"),
        ("600", "600 is not a status code (they run from 100 to 599)"),
        ("500-400", "range '500-400' runs backwards; write 400-500"),
        ("500-700", "700 is not a status code (they run from 100 to 599)"),
        ("abc", "'abc' is not a status: use 404, \"4xx\" or \"500-599\""),
        ("4x", "'4x' is not a status: use 404, \"4xx\" or \"500-599\""),
    ])
    func invalidStatusTerms(_ text: String, _ message: String) {
        guard case .failure(let error) = StatusSet.parseTerm(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(error.message == message)
    }

    @Test func statusSetMembershipAndCoverage() {
        var set = StatusSet()
        set.insert(404...404, term: "404")
        set.insert(500...599, term: "5xx")
        #expect(set.contains(404) && set.contains(500) && set.contains(599))
        #expect(!set.contains(403) && !set.contains(600) && !set.contains(99))
        #expect(set.classMask == 0b10_0000 | 0b1_0000)
        var subset = StatusSet()
        subset.insert(502...504, term: "502-504")
        #expect(set.isSuperset(of: subset) && !subset.isSuperset(of: set))
        #expect(StatusSet.all.isSuperset(of: set))
    }

    @Test func methodBucketsAndCustomMethods() {
        let set = MethodSet(["GET", "PURGE"])
        #expect(set.contains("GET") && set.contains("PURGE"))
        #expect(!set.contains("get") && !set.contains("POST") && !set.contains("PURGEX"))
        for (index, name) in MethodSet.standard.enumerated() {
            #expect(Array(name.utf8).withUnsafeBytes { MethodSet.bucket(of: $0) } == index)
        }
        #expect(Array("PROPFIND".utf8).withUnsafeBytes { MethodSet.bucket(of: $0) } == MethodSet.otherBucket)
        #expect(MethodSet(["GET", "HEAD", "PURGE"]).isSuperset(of: MethodSet(["HEAD", "PURGE"])))
        #expect(!MethodSet(["GET"]).isSuperset(of: MethodSet(["GET", "PURGE"])))
    }
}

@Suite struct RegexPrefixTests {
    @Test(arguments: [
        ("^/v[0-9]+/", "/v"),
        ("^/api/v1/users$", "/api/v1/users"),
        ("^/a\\.b", "/a.b"),
        ("^/ab?c", "/a"),
        ("^/ab*", "/a"),
        ("^/ab+", "/ab"),
        ("^/ab{2}", "/ab"),
        ("^/a\\d", "/a"),
        ("^/(a|b)", "/"),
        ("^(?i)/api", "/"),
        ("^/API(?i)x", "/API"),
    ])
    func anchoredLiteralPrefixes(_ pattern: String, _ prefix: String) {
        #expect(PathRegex.literalPrefix(of: pattern) == Array(prefix.utf8))
    }

    /// Unanchored, flagged, alternated or not starting with `/`: no prefix, tested on every path.
    @Test(arguments: ["/v[0-9]+/", "^/a|^/b", "^v1", "^.*", "(^/x)"])
    func noPrefix(_ pattern: String) {
        #expect(PathRegex.literalPrefix(of: pattern) == nil)
    }

    @Test func escapedSlashIsLiteral() {
        #expect(PathRegex.literalPrefix(of: "^\\/x") == Array("/x".utf8))
    }
}
