/// Loads a rule set from a file or a directory: the one code path behind `attache run`,
/// `attache lint`, `attache explain` and reloads.
///
/// A directory contributes its `*.yaml` / `*.yml` entries in byte order of their names; entries
/// starting with `.` are skipped (a ConfigMap mount's `..data`), symlinks are followed, and
/// subdirectories are not read. An entry that cannot be read (a dangling symlink, no
/// permission, not a regular file) is an error, never silently left out: a rule set missing
/// a file is not the rule set the operator wrote.
public struct RuleLoader: Sendable {
    /// What loading produced. `table` is `nil` exactly when `diagnostics` has an error.
    public struct Outcome: Sendable {
        public var table: RuleTable?
        public var diagnostics: [Diagnostic]
        /// The rule files read, in load order.
        public var files: [String]
    }

    public var limits: YAMLReader.Limits

    public init(limits: YAMLReader.Limits = YAMLReader.Limits()) {
        self.limits = limits
    }

    /// Loads `path` (a rules file or directory).
    public func load(path: String) -> Outcome {
        let root: String
        let files: [String]
        var diagnostics: [Diagnostic] = []
        switch FileSystem.kind(of: path) {
        case nil:
            return Outcome(
                table: nil,
                diagnostics: [.error(.unreadable, "rules path '\(path)' does not exist", at: nil)], files: [])
        case .directory:
            root = path
            do {
                files = try RuleLoader.ruleFiles(in: path)
            } catch {
                return Outcome(table: nil, diagnostics: [.error(.unreadable, error.description, at: nil)], files: [])
            }
            if files.isEmpty {
                diagnostics.append(
                    .warning(
                        .noRuleFiles, "no rule files (*.yaml, *.yml) in '\(path)': attache relays without rules",
                        at: nil))
            }
        case .file:
            root = FileSystem.directoryName(path)
            files = [path]
        case .other:
            return Outcome(
                table: nil,
                diagnostics: [.error(.unreadable, "rules path '\(path)' is neither a file nor a directory", at: nil)],
                files: [])
        }

        var sources: [SourceFile] = []
        for file in files {
            if let size = FileSystem.size(of: file), size > limits.maximumFileSize {
                diagnostics.append(
                    .error(
                        .fileTooLarge,
                        "file is \(size) bytes, over the \(limits.maximumFileSize)-byte limit for rules files",
                        at: SourceLocation(file: file, line: 1, column: 1)))
                continue
            }
            do {
                let bytes = try FileSystem.read(file, limit: limits.maximumFileSize)
                sources.append(SourceFile(path: file, bytes: bytes))
            } catch {
                diagnostics.append(.error(.unreadable, error.description, at: SourceLocation(file: file, line: 1, column: 1)))
            }
        }
        var outcome = load(sources: sources, rulesRoot: FileSystem.realPath(root))
        outcome.diagnostics = (diagnostics + outcome.diagnostics)
        if outcome.diagnostics.hasErrors { outcome.table = nil }
        return outcome
    }

    /// Loads files already in memory (tests, fuzzing, benchmarks). `rulesRoot` is the canonical
    /// directory `body_file` must stay inside; `nil` allows any path.
    public func load(sources: [SourceFile], rulesRoot: String?) -> Outcome {
        let reader = YAMLReader(limits: limits)
        var diagnostics: [Diagnostic] = []
        var inputs: [RuleSetDecoder.FileInput] = []
        var digest = SHA256()
        for source in sources {
            let result = reader.read(source)
            diagnostics += result.diagnostics
            inputs.append(.init(file: source, root: result.root))
            RuleLoader.addToDigest(&digest, name: source.path, bytes: source.bytes)
        }
        let decoder = RuleSetDecoder(rulesRoot: rulesRoot)
        let decoded = decoder.decode(inputs)
        diagnostics += decoder.diagnostics
        for bodyFile in decoder.bodyFiles {
            RuleLoader.addToDigest(&digest, name: bodyFile.path, bytes: bodyFile.bytes)
        }
        let files = sources.map(\.path)
        guard !diagnostics.hasErrors else {
            return Outcome(table: nil, diagnostics: diagnostics.sortedByLocation(), files: files)
        }
        diagnostics += ShadowAnalysis(rules: decoded.rules).run()
        let ruleSet = RuleSet(
            rules: decoded.rules, templates: decoded.templates, files: files,
            bodyFiles: decoder.bodyFiles.map(\.path), digest: SHA256.hex(digest.finalize()),
            requestHeaderNames: decoder.headerSlots.requestNames,
            responseHeaderNames: decoder.headerSlots.responseNames)
        return Outcome(table: RuleTable(ruleSet), diagnostics: diagnostics.sortedByLocation(), files: files)
    }

    /// Convenience for tests: one in-memory file.
    public func load(text: String, path: String = "rules.yaml") -> Outcome {
        load(sources: [SourceFile(path: path, text: text)], rulesRoot: nil)
    }

    /// The rule files of a directory, in load order, as `directory/name` paths.
    public static func ruleFiles(in directory: String) throws(FileSystemError) -> [String] {
        let names: [String]
        do {
            names = try FileSystem.list(directory)
        } catch {
            throw FileSystemError(description: error.description)
        }
        return names.filter { name in
            !name.hasPrefix(".") && (name.hasSuffix(".yaml") || name.hasSuffix(".yml"))
                && FileSystem.kind(of: FileSystem.join(directory, name)) != .directory
        }
        .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        .map { FileSystem.join(directory, $0) }
    }

    /// Subdirectories of `directory` (not starting with `.`), sorted: `lint` checks each as its
    /// own rule set when given a directory of rule sets such as `samples/`.
    public static func subdirectories(of directory: String) -> [String] {
        let names = (try? FileSystem.list(directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && FileSystem.kind(of: FileSystem.join(directory, $0)) == .directory }
            .sorted()
            .map { FileSystem.join(directory, $0) }
    }

    public static func isDirectory(_ path: String) -> Bool {
        FileSystem.kind(of: path) == .directory
    }

    /// The digest `load(path:)` would give the rule set on disk now, computed without decoding:
    /// the rule files, then `bodyFiles` (those of the set in use). Equal to the loaded set's
    /// `digest` exactly when the same bytes are still there, so a watcher can poll it cheaply
    /// and check that what it compiled was not changed underneath. Anything unreadable is mixed
    /// in as its error, so a change between two unreadable states is still seen.
    public func fingerprint(path: String, bodyFiles: [String]) -> String {
        var digest = SHA256()
        let files: [String]
        switch FileSystem.kind(of: path) {
        case .directory:
            do {
                files = try RuleLoader.ruleFiles(in: path)
            } catch {
                return "unreadable: \(error.description)"
            }
        case .file:
            files = [path]
        case nil:
            return "missing: \(path)"
        case .other:
            return "not a file or directory: \(path)"
        }
        for file in files + bodyFiles {
            do {
                RuleLoader.addToDigest(&digest, name: file, bytes: try FileSystem.read(file, limit: limits.maximumFileSize))
            } catch {
                digest.update("\u{0}error\u{0}\(error.description)".utf8)
            }
        }
        return SHA256.hex(digest.finalize())
    }

    private static func addToDigest(_ digest: inout SHA256, name: String, bytes: [UInt8]) {
        digest.update(name.utf8)
        digest.update([0])
        digest.update(String(bytes.count).utf8)
        digest.update([0])
        digest.update(bytes)
    }
}

/// A file-system problem outside any rules file (listing a directory).
public struct FileSystemError: Error, CustomStringConvertible {
    public var description: String
}
