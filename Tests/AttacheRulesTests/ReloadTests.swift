import AttacheTestSupport
import Foundation
import Testing

@testable import AttacheRules

/// What a watcher needs from the rule engine: a cheap fingerprint equal to the loaded set's
/// digest, and the debouncing of changes (no files touched by the debouncer tests).
struct ReloadTests {
    @Test func debouncerWaitsForAQuietChangeAndTriesItOnce() {
        var debouncer = ReloadDebouncer(tried: "A", quietPeriod: 0.25)
        func observe(_ fingerprint: String, _ time: Double) -> Bool { debouncer.observe(fingerprint, at: time) }
        #expect(!observe("A", 0))
        #expect(debouncer.nextPoll(interval: 1) == 1)
        #expect(!observe("B", 1))  // first seen: wait
        #expect(debouncer.nextPoll(interval: 1) == 0.25)
        #expect(!observe("C", 1.1))  // still changing: start over
        #expect(!observe("C", 1.3))  // quiet for 0.2 s only
        #expect(observe("C", 1.35))  // quiet for 0.25 s: load
        debouncer.didTry("C")
        #expect(!observe("C", 2))  // tried (even if it was rejected): not again
        #expect(debouncer.pending == nil)
        // Back to a state already tried before: nothing pending any more.
        #expect(!observe("D", 3))
        #expect(!observe("C", 3.5))
        #expect(debouncer.pending == nil)
        // A load that found the files changing underneath starts the quiet period again.
        #expect(!observe("E", 4))
        #expect(observe("E", 4.3))
        debouncer.restart()
        #expect(!observe("E", 4.4))
        #expect(observe("E", 4.7))
    }

    @Test func noQuietPeriodLoadsAtOnce() {
        var debouncer = ReloadDebouncer(tried: "A", quietPeriod: 0)
        let load = debouncer.observe("B", at: 0)
        #expect(load)
    }

    @Test func fingerprintEqualsTheDigestAndFollowsASwap() throws {
        let directory = try ConfigMapDirectory()
        let loader = RuleLoader()
        try directory.publish([
            "a.yaml": "rules:\n  - name: page\n    when: { path: /p }\n    respond: { status: 200, body_file: page.html }\n",
            "page.html": "one",
        ])
        let first = try #require(loader.load(path: directory.root).table)
        #expect(first.ruleSet.files == ["\(directory.root)/a.yaml"])
        #expect(first.ruleSet.bodyFiles == ["\(directory.root)/page.html"])
        #expect(loader.fingerprint(path: directory.root, bodyFiles: first.ruleSet.bodyFiles) == first.ruleSet.digest)

        // Only the body file changes: the visible names and their mtimes stay, the digest moves.
        try directory.publish([
            "a.yaml": "rules:\n  - name: page\n    when: { path: /p }\n    respond: { status: 200, body_file: page.html }\n",
            "page.html": "two",
        ])
        let changed = loader.fingerprint(path: directory.root, bodyFiles: first.ruleSet.bodyFiles)
        #expect(changed != first.ruleSet.digest)
        let second = try #require(loader.load(path: directory.root).table)
        #expect(second.ruleSet.digest == changed)
    }

    @Test func edgeCasesOfTheRulesPath() throws {
        let directory = try ConfigMapDirectory()
        let loader = RuleLoader()
        // An emptied directory is a valid, empty set (a pure relay), with a warning.
        try directory.publish([:])
        let empty = loader.load(path: directory.root)
        #expect(empty.table?.rules.isEmpty == true)
        #expect(empty.diagnostics.map(\.description) == [
            "warning: no rule files (*.yaml, *.yml) in '\(directory.root)': attache relays without rules [A010]"
        ])
        // A dangling symlink is an error, not a silently smaller set.
        try FileManager.default.createSymbolicLink(atPath: "\(directory.root)/gone.yaml", withDestinationPath: "..data/gone.yaml")
        let dangling = loader.load(path: directory.root)
        #expect(dangling.table == nil)
        #expect(dangling.diagnostics.map(\.description) == [
            "\(directory.root)/gone.yaml:1:1: error: cannot open '\(directory.root)/gone.yaml': No such file or directory [A007]"
        ])
        try FileManager.default.removeItem(atPath: "\(directory.root)/gone.yaml")
        // A FIFO named like a rules file is refused without blocking.
        #expect(mkfifo("\(directory.root)/pipe.yaml", 0o600) == 0)
        let fifo = loader.load(path: directory.root)
        #expect(fifo.table == nil)
        #expect(fifo.diagnostics.map(\.description) == [
            "\(directory.root)/pipe.yaml:1:1: error: cannot read '\(directory.root)/pipe.yaml': not a regular file [A007]"
        ])
        #expect(loader.fingerprint(path: directory.root, bodyFiles: []) != fifo.table?.ruleSet.digest)
        // A missing path is an error.
        let missing = loader.load(path: directory.root + "/nowhere")
        #expect(missing.table == nil)
        #expect(missing.diagnostics.map(\.description) == ["error: rules path '\(directory.root)/nowhere' does not exist [A007]"])
        #expect(loader.fingerprint(path: directory.root + "/nowhere", bodyFiles: []) == "missing: \(directory.root)/nowhere")
    }
}
