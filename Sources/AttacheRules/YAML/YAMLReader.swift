import CLibYAML

/// Reads one YAML file into a `YAMLNode` tree with libyaml's event parser.
///
/// The reader refuses what a rules file never needs and what could hurt the process: more than
/// one document, files over `maximumFileSize`, input that is not UTF-8, nesting deeper than
/// `maximumDepth`, and alias expansion over `maximumExpandedNodes` (checked as each node is
/// built, so a "billion laughs" file stops after a few thousand events).
public struct YAMLReader: Sendable {
    public struct Limits: Sendable {
        public var maximumFileSize: Int
        public var maximumDepth: Int
        public var maximumExpandedNodes: Int

        public init(maximumFileSize: Int = 4 << 20, maximumDepth: Int = 64, maximumExpandedNodes: Int = 1_000_000) {
            self.maximumFileSize = maximumFileSize
            self.maximumDepth = maximumDepth
            self.maximumExpandedNodes = maximumExpandedNodes
        }
    }

    /// The outcome of reading a file: the root node (`nil` for an empty file or on error).
    public struct Result: Sendable {
        public var root: YAMLNode?
        public var diagnostics: [Diagnostic]
    }

    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public func read(_ file: SourceFile) -> Result {
        if file.bytes.count > limits.maximumFileSize {
            return Result(root: nil, diagnostics: [
                .error(
                    .fileTooLarge,
                    "file is larger than \(limits.maximumFileSize) bytes, the limit for rules files",
                    at: file.location(line: 1, column: 1))
            ])
        }
        if let problem = UTF8Check.firstProblem(in: file.bytes) {
            return Result(root: nil, diagnostics: [
                .error(.invalidEncoding, problem.message, at: file.location(ofByteOffset: problem.offset))
            ])
        }
        var builder = TreeBuilder(file: file, limits: limits)
        file.bytes.withUnsafeBufferPointer { buffer in
            builder.parse(buffer)
        }
        return Result(root: builder.diagnostics.hasErrors ? nil : builder.root, diagnostics: builder.diagnostics)
    }
}

/// Turns libyaml events into nodes; one instance per file.
private struct TreeBuilder {
    /// A collection being read. A class so that appending a child mutates it in place (an enum
    /// payload would be copied on every append, quadratic in the length of a long list).
    private final class Frame {
        let isMapping: Bool
        let location: SourceLocation
        let anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        var seen: [String: SourceLocation] = [:]
        var weight = 1

        init(isMapping: Bool, location: SourceLocation, anchor: String?) {
            self.isMapping = isMapping
            self.location = location
            self.anchor = anchor
        }

        /// Small mappings (nearly all of them) are searched directly; larger ones also keep
        /// a dictionary of the keys past this limit.
        static let linearSearchLimit = 16

        func firstLocation(ofKey key: String) -> SourceLocation? {
            for pair in pairs.prefix(Frame.linearSearchLimit) where pair.key.scalar?.value == key {
                return pair.key.location
            }
            return seen[key]
        }
    }

    let file: SourceFile
    let limits: YAMLReader.Limits
    var root: YAMLNode?
    var diagnostics: [Diagnostic] = []
    private var stack: [Frame] = []
    private var anchors: [String: YAMLNode] = [:]
    private var documents = 0

    init(file: SourceFile, limits: YAMLReader.Limits) {
        self.file = file
        self.limits = limits
    }

    mutating func parse(_ input: UnsafeBufferPointer<UInt8>) {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            diagnostics.append(.error(.yamlSyntax, "libyaml could not be initialised", at: location(line: 0, column: 0)))
            return
        }
        defer { yaml_parser_delete(parser) }
        // libyaml keeps this pointer; the caller holds `input` alive until we return.
        yaml_parser_set_input_string(parser, input.baseAddress, input.count)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) == 1 else {
                reportParserError(parser.pointee)
                return
            }
            let keepGoing = handle(event)
            let done = event.type == YAML_STREAM_END_EVENT
            yaml_event_delete(&event)
            if !keepGoing || done { return }
        }
    }

    /// Returns `false` once an error means the rest of the file cannot be trusted.
    private mutating func handle(_ event: yaml_event_t) -> Bool {
        let here = location(line: event.start_mark.line, column: event.start_mark.column)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                diagnostics.append(
                    .error(
                        .multipleDocuments,
                        "a rules file holds one YAML document; split the documents into separate files",
                        at: here))
                return false
            }
            return true
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor)
            guard let target = anchors[name] else {
                diagnostics.append(.error(.yamlSyntax, "alias '*\(name)' refers to no anchor defined before it", at: here))
                return false
            }
            return add(target, at: here)
        case YAML_SCALAR_EVENT:
            let scalarData = event.data.scalar
            let value = String(
                decoding: UnsafeBufferPointer(start: scalarData.value, count: scalarData.length), as: UTF8.self)
            let tag = scalarData.tag.map { Self.string($0) }
            if let tag, !Self.supportedScalarTags.contains(tag) {
                diagnostics.append(
                    .error(.unsupportedYAML, "tag '\(tag)' is not supported in rules files", at: here))
                return false
            }
            let style: YAMLScalar.Style
            switch scalarData.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let offset = file.byteOffset(line: here.line, column: here.column) ?? 0
            let scalar = YAMLScalar(value: value, style: style, tag: tag, source: file, sourceOffset: offset)
            let node = YAMLNode(content: .scalar(scalar), location: here, weight: 1)
            if let anchor = scalarData.anchor { anchors[Self.string(anchor)] = node }
            return add(node, at: here)
        case YAML_SEQUENCE_START_EVENT:
            if let tag = event.data.sequence_start.tag.map({ Self.string($0) }), tag != "tag:yaml.org,2002:seq" {
                diagnostics.append(.error(.unsupportedYAML, "tag '\(tag)' is not supported in rules files", at: here))
                return false
            }
            let anchor = event.data.sequence_start.anchor.map { Self.string($0) }
            return push(Frame(isMapping: false, location: here, anchor: anchor), at: here)
        case YAML_MAPPING_START_EVENT:
            if let tag = event.data.mapping_start.tag.map({ Self.string($0) }), tag != "tag:yaml.org,2002:map" {
                diagnostics.append(.error(.unsupportedYAML, "tag '\(tag)' is not supported in rules files", at: here))
                return false
            }
            let anchor = event.data.mapping_start.anchor.map { Self.string($0) }
            return push(Frame(isMapping: true, location: here, anchor: anchor), at: here)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return true }
            let content: YAMLNode.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
            let node = YAMLNode(content: content, location: frame.location, weight: frame.weight)
            if let anchor = frame.anchor { anchors[anchor] = node }
            return add(node, at: node.location)
        default:
            return true
        }
    }

    private mutating func push(_ frame: Frame, at here: SourceLocation) -> Bool {
        guard stack.count < limits.maximumDepth else {
            diagnostics.append(
                .error(
                    .nestingTooDeep, "nesting deeper than \(limits.maximumDepth) levels is not allowed in rules files",
                    at: here))
            return false
        }
        stack.append(frame)
        return true
    }

    /// Attaches a finished node to its parent, enforcing key rules and the expansion cap.
    private mutating func add(_ node: YAMLNode, at here: SourceLocation) -> Bool {
        guard let top = stack.last else {
            root = node
            return true
        }
        top.weight += node.weight
        if !top.isMapping {
            top.items.append(node)
        } else if let key = top.pendingKey {
            top.pairs.append(YAMLPair(key: key, value: node))
            top.pendingKey = nil
        } else {
            guard let keyScalar = node.scalar else {
                diagnostics.append(
                    .error(.unsupportedYAML, "mapping keys must be plain text, not \(node.kindDescription)", at: here))
                return false
            }
            if let first = top.firstLocation(ofKey: keyScalar.value) {
                diagnostics.append(
                    .error(
                        .duplicateKey, "duplicate key '\(keyScalar.value)'", at: node.location,
                        notes: [.init(location: first, message: "'\(keyScalar.value)' first defined here")]))
            } else if top.pairs.count >= Frame.linearSearchLimit {
                top.seen[keyScalar.value] = node.location
            }
            top.pendingKey = node
        }
        return checkWeight(top.weight, cap: limits.maximumExpandedNodes, at: here)
    }

    private mutating func checkWeight(_ weight: Int, cap: Int, at here: SourceLocation) -> Bool {
        guard weight > cap else { return true }
        diagnostics.append(
            .error(
                .aliasExpansion,
                "the document expands to more than \(cap) nodes once aliases are resolved; refusing to read further",
                at: here))
        return false
    }

    private mutating func reportParserError(_ parser: yaml_parser_t) {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        if parser.error == YAML_READER_ERROR {
            diagnostics.append(
                .error(.invalidEncoding, "cannot read the file: \(problem)",
                       at: file.location(ofByteOffset: parser.problem_offset)))
            return
        }
        var notes: [Diagnostic.Note] = []
        if let context = parser.context.map({ String(cString: $0) }) {
            notes.append(
                .init(
                    location: location(line: parser.context_mark.line, column: parser.context_mark.column),
                    message: context))
        }
        diagnostics.append(
            .error(
                .yamlSyntax, problem,
                at: location(line: parser.problem_mark.line, column: parser.problem_mark.column), notes: notes))
    }

    private func location(line: Int, column: Int) -> SourceLocation {
        file.location(line: line + 1, column: column + 1)
    }

    private static let supportedScalarTags: Set<String> = [
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
    ]

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>) -> String {
        String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
