import Testing

@testable import AttacheRules

@Suite struct RegexTests {
    func search(_ pattern: String, _ input: String) throws -> Bool {
        try PathRegex(pattern).matches(input)
    }

    func captures(_ pattern: String, _ input: String) throws -> [String]? {
        let regex = try PathRegex(pattern)
        var ranges: [Range<Int>] = []
        let bytes = Array(input.utf8)
        guard bytes.withUnsafeBytes({ regex.matches($0, captures: &ranges) }) else { return nil }
        return ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test(arguments: [
        ("text/html", "text/html,application/xhtml+xml", true),
        ("text/html", "application/json", false),
        ("^/v[0-9]+/", "/v12/users", true),
        ("^/v[0-9]+/", "/x/v12/", false),
        ("\\.json$", "/a/b.json", true),
        ("\\.json$", "/a/b.json/x", false),
        ("^/(users|groups)/[^/]+$", "/groups/7", true),
        ("^/(users|groups)/[^/]+$", "/groups/7/x", false),
        ("^$", "", true),
        ("", "anything", true),
        ("a{2,3}", "xaay", true),
        ("a{2,3}", "xay", false),
        ("^a{2}$", "aaa", false),
        ("(?i)^/API", "/api/x", true),
        ("^/(?i:api)/X", "/API/X", true),
        ("^/(?i:api)/X", "/API/x", false),
        ("\\bword\\b", "a word here", true),
        ("\\bword\\b", "swordfish", false),
        ("\\Bor\\B", "word", true),
        ("\\d+\\s\\w", "12 x", true),
        ("[\\d.]+", "1.5", true),
        ("[a\\-z]", "-", true),
        ("[]a]", "]", true),
        ("a.c", "a\nc", false),
        ("(?s)a.c", "a\nc", true),
        ("\\x41", "A", true),
        ("é", "café", true),
        ("^caf.$", "café", false),
        ("x*", "", true),
        ("(a*)*b", "aaab", true),
        ("(a|ab)(c|bcd)(d*)", "abcd", true),
        ("a{,2}", "a{,2}", true),
        ("\\A/x\\z", "/x", true),
    ])
    func matching(_ pattern: String, _ input: String, _ expected: Bool) throws {
        #expect(try search(pattern, input) == expected)
        #expect(try (captures(pattern, input) != nil) == expected)
    }

    @Test(arguments: [
        ("^/users/(?<id>[0-9]+)(?:/(?<tab>[a-z]+))?", "/users/42/posts", ["42", "posts"]),
        ("^/users/(?<id>[0-9]+)(?:/(?<tab>[a-z]+))?", "/users/42", ["42", ""]),
        ("(?P<a>a+?)(?P<b>a*)", "aaa", ["a", "aa"]),
        ("(?<x>a|ab)(?<y>c|bcd)", "abcd", ["a", "bcd"]),
        ("(?<x>a*)b", "xaab", ["aa"]),
        ("(?<w>\\w+)$", "one two", ["two"]),
    ])
    func namedCaptures(_ pattern: String, _ input: String, _ expected: [String]) throws {
        #expect(try captures(pattern, input) == expected)
    }

    @Test(arguments: [
        ("^/(a", "missing ')'", 2),
        ("a)", "unmatched ')'", 1),
        ("*a", "'*' has nothing to repeat", 0),
        ("a**", "'*' has nothing to repeat", 2),
        ("[z-a]", "range out of order in character class", 1),
        ("[abc", "unterminated '['", 0),
        ("(a)\\1", "backreferences are not supported (attache's regexes run in linear time, like RE2)", 3),
        ("a(?=b)", "lookaround is not supported (attache's regexes run in linear time, like RE2)", 1),
        ("(?<=a)b", "lookaround is not supported (attache's regexes run in linear time, like RE2)", 0),
        ("a{5,2}", "repetition range out of order", 1),
        ("a{2000}", "repetition counts are limited to 1000", 1),
        ("\\q", "unknown escape '\\q'", 0),
        ("(?<1x>a)", "'1x' is not a valid group name", 3),
        ("(?<a>x)(?<a>y)", "group name 'a' is used twice", 10),
        ("(?x)a", "unsupported group or flag '(?x'", 0),
        ("a\\", "trailing '\\'", 1),
        ("^*", "an anchor cannot be repeated", 0),
        ("a++", "possessive quantifiers are not supported", 2),
        ("[[:alpha:]]", "POSIX classes like [:alpha:] are not supported; use ranges", 1),
    ])
    func errors(_ pattern: String, _ message: String, _ offset: Int) {
        do {
            _ = try PathRegex(pattern)
            Issue.record("'\(pattern)' compiled")
        } catch {
            #expect(error.message == message)
            #expect(error.offset == offset)
        }
    }

    @Test func programSizeIsBounded() {
        #expect(throws: PathRegex.CompileError.self) { try PathRegex("(((a{100}){100}){100})") }
    }

    /// The classic catastrophic-backtracking patterns finish at once on long hostile input.
    @Test func matchingIsLinearOnHostileInput() throws {
        let input = String(repeating: "a", count: 20_000) + "!"
        let regexes = try ["^(a+)+$", "(a|aa)*b", "^(a|a?)+$"].map { try PathRegex($0) }
        let clock = ContinuousClock()
        var results: [Bool] = []
        let elapsed = clock.measure {
            results = regexes.map { $0.matches(input) }
        }
        #expect(results == [false, false, false])
        // Backtracking engines take longer than the age of the universe here; a linear one
        // takes milliseconds even unoptimized. A loose bound, only to catch exponential blow-up.
        #expect(elapsed < .seconds(20))
    }

    /// Random patterns and inputs over a small alphabet: attache's engine must agree with
    /// Swift's backtracking `Regex` on whether there is a match and where it is. (Where a
    /// repeated group can match the empty string, Perl-style engines and Pike VMs may pick
    /// different extents for the same match; such patterns are compared on match/no match only.)
    @Test func agreesWithSwiftRegex() throws {
        var generator = SplitMix64(seed: 2026)
        func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }
        // Each generator returns the text and whether it can match the empty string.
        func atom(_ depth: Int) -> (String, Bool) {
            switch generator.next() % 9 {
            case 0: return (".", false)
            case 1: return (pick(["[ab]", "[^a]", "[a-c/]", "\\w", "\\d"]), false)
            case 2 where depth < 3:
                let inner = alternation(depth + 1)
                return ("(" + inner.0 + ")", inner.1)
            case 3 where depth < 3:
                let inner = alternation(depth + 1)
                return ("(?:" + inner.0 + ")", inner.1)
            default: return (pick(["a", "b", "/", "c"]), false)
            }
        }
        var nullableLoops = false
        func piece(_ depth: Int) -> (String, Bool) {
            let (text, nullable) = atom(depth)
            let quantifier = pick(["", "", "", "*", "+", "?", "{1,2}", "*?", "+?", "??", "{2}"])
            if nullable && ["*", "+", "*?", "+?", "{1,2}"].contains(quantifier) { nullableLoops = true }
            let canBeEmpty = nullable || ["*", "?", "*?", "??"].contains(quantifier)
            return (text + quantifier, canBeEmpty)
        }
        func concatenation(_ depth: Int) -> (String, Bool) {
            let pieces = (0..<(1 + Int(generator.next() % 3))).map { _ in piece(depth) }
            return (pieces.map(\.0).joined(), pieces.allSatisfy(\.1))
        }
        func alternation(_ depth: Int) -> (String, Bool) {
            guard generator.next() % 4 == 0 else { return concatenation(depth) }
            let (a, b) = (concatenation(depth), concatenation(depth))
            return (a.0 + "|" + b.0, a.1 || b.1)
        }
        var compared = 0
        var matched = 0
        var extentsCompared = 0
        for _ in 0..<400 {
            nullableLoops = false
            let pattern = pick(["", "^", ""]) + alternation(0).0 + pick(["", "$", ""])
            let ours = try PathRegex(pattern)
            let theirs = try Regex(pattern)
            for _ in 0..<15 {
                let input = String((0..<Int(generator.next() % 8)).map { _ in pick(["a", "b", "c", "/", "1"]) })
                let expected = try theirs.firstMatch(in: input)
                #expect(ours.matches(input) == (expected != nil), "\(pattern) on \(input)")
                compared += 1
                guard let expected else { continue }
                matched += 1
                let bytes = Array(input.utf8)
                let slots = try #require(bytes.withUnsafeBytes { ours.program.captures($0) })
                guard !nullableLoops else { continue }
                extentsCompared += 1
                let start = input.utf8.distance(from: input.startIndex, to: expected.range.lowerBound)
                let end = input.utf8.distance(from: input.startIndex, to: expected.range.upperBound)
                #expect(slots[0] == start && slots[1] == end, "\(pattern) on \(input)")
            }
        }
        #expect(compared == 6000)
        #expect(matched > 1000)
        #expect(extentsCompared > 1000)
    }
}
