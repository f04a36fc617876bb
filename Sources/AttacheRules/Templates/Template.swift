/// A compiled template: the text pre-split into literal bytes and value slots.
///
/// Rendering is one walk over the segments, appending to a caller-owned buffer; with a warm
/// buffer it allocates nothing. A class: rules hand their templates to every exchange they log
/// or record, and copying the struct retained and released each of its references.
public final class Template: Sendable {
    enum Segment: Sendable {
        case literal([UInt8])
        case value(Expression)
    }

    enum ValueSource: Sendable, Hashable {
        case variable(TemplateVariable)
        /// `{{ "{{" }}`: a string literal, the way to write braces literally.
        case literal([UInt8])
    }

    /// A class: rendering reads each expression of a template per exchange, and copying the
    /// struct out of its segment retained and released its source and filters every time.
    final class Expression: Sendable {
        let source: ValueSource
        let filters: [TemplateFilter]
        /// Scalar offset of the expression in the template text (for diagnostics).
        let offset: Int
        var escapesExplicitly: Bool { filters.contains { $0.choosesEscaping } }

        init(source: ValueSource, filters: [TemplateFilter], offset: Int) {
            self.source = source
            self.filters = filters
            self.offset = offset
        }
    }

    /// What rendering walks: one piece per segment, a trivial value (binding a segment's array
    /// or class payload retained and released it, ten atomic operations per render of a log
    /// line with five values). `expression` is `nil` for literal bytes.
    private struct Piece {
        let literal: Range<Int>
        let expression: Unmanaged<Expression>?
    }

    /// The template as written.
    public let text: String
    public let use: TemplateUse
    private let pieces: [Piece]
    /// Every literal segment's bytes, one after the other; pieces hold ranges of it.
    private let literalBytes: [UInt8]
    /// The value slots in order; holds the expressions `pieces` refer to unretained, for as long
    /// as the template lives.
    private let expressions: [Expression]
    /// Where the text came from, to place diagnostics about its variables.
    public let origin: TemplateOrigin?

    init(text: String, use: TemplateUse, segments: [Segment], origin: TemplateOrigin? = nil) {
        self.text = text
        self.use = use
        // A header value's control characters become spaces, byte by byte: the literal parts are
        // made safe once here, and only the values are checked when rendering.
        let segments = use != .headerValue ? segments : segments.map { segment in
            guard case .literal(var bytes) = segment else { return segment }
            Escaping.sanitizeHeaderValue(&bytes, from: 0)
            return .literal(bytes)
        }
        var pieces: [Piece] = []
        var literalBytes: [UInt8] = []
        var expressions: [Expression] = []
        for segment in segments {
            switch segment {
            case .literal(let bytes):
                pieces.append(Piece(literal: literalBytes.count..<(literalBytes.count + bytes.count), expression: nil))
                literalBytes.append(contentsOf: bytes)
            case .value(let expression):
                pieces.append(Piece(literal: 0..<0, expression: Unmanaged.passUnretained(expression)))
                expressions.append(expression)
            }
        }
        self.pieces = pieces
        self.literalBytes = literalBytes
        self.expressions = expressions
        self.origin = origin
    }

    /// A template without any value: renders `text` as is.
    public static func constant(_ text: String, use: TemplateUse) -> Template {
        Template(text: text, use: use, segments: text.isEmpty ? [] : [.literal(Array(text.utf8))])
    }

    /// The template a request-phase answer renders: every variable that describes a response
    /// (`TemplateVariable.needsResponse`, lint's A204) has no value there, so it is taken out when
    /// the rules compile rather than asked for per exchange. A value with a `default` filter keeps
    /// its filters over an empty value, so the default still applies; any other such value is
    /// dropped. `self` when the template has none.
    func withoutResponseVariables() -> Template {
        func describesResponse(_ expression: Expression) -> Bool {
            if case .variable(let variable) = expression.source { return variable.needsResponse }
            return false
        }
        guard expressions.contains(where: describesResponse) else { return self }
        let segments: [Segment] = pieces.compactMap { piece in
            guard let expression = piece.expression?.takeUnretainedValue() else {
                return .literal(Array(literalBytes[piece.literal]))
            }
            guard describesResponse(expression) else { return .value(expression) }
            guard expression.filters.contains(where: { if case .defaultValue = $0 { true } else { false } }) else {
                return nil
            }
            return .value(Expression(source: .literal([]), filters: expression.filters, offset: expression.offset))
        }
        return Template(text: text, use: use, segments: segments, origin: origin)
    }

    /// Each variable used, with its scalar offset in `text`.
    public var variables: [(variable: TemplateVariable, offset: Int)] {
        expressions.compactMap {
            guard case .variable(let variable) = $0.source else { return nil }
            return (variable, $0.offset)
        }
    }

    /// True when the output does not depend on the exchange.
    public var isConstant: Bool { variables.isEmpty }

    /// What the template renders to when it has no value slot at all, else `nil`.
    var constantBytes: [UInt8]? {
        expressions.isEmpty ? literalBytes : nil
    }

    /// Appends the rendered template to `output`. `scratch` is working space for filters.
    public func render<Context: TemplateContext>(
        _ context: Context, into output: inout [UInt8], scratch: inout [UInt8]
    ) {
        literalBytes.withUnsafeBufferPointer { literals in
            for piece in pieces {
                if let expression = piece.expression {
                    // `expressions` holds it for as long as the template lives.
                    expression._withUnsafeGuaranteedRef { renderValue($0, context, into: &output, scratch: &scratch) }
                } else if piece.literal.count == 1 {
                    // The space between two values, usually: a byte costs less than a copy.
                    output.append(literals[piece.literal.lowerBound])
                } else {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: literals[piece.literal]))
                }
            }
        }
    }

    /// Convenience for tests, `explain` and other cold paths.
    public func render<Context: TemplateContext>(_ context: Context) -> String {
        var output: [UInt8] = []
        var scratch: [UInt8] = []
        render(context, into: &output, scratch: &scratch)
        return String(decoding: output, as: UTF8.self)
    }

    private func renderValue<Context: TemplateContext>(
        _ expression: Expression, _ context: Context, into output: inout [UInt8], scratch: inout [UInt8]
    ) {
        let start = output.count
        var present: Bool
        switch expression.source {
        case .variable(let variable):
            present = context.appendValue(of: variable, to: &output)
            if !present { output.removeSubrange(start...) }
        case .literal(let bytes):
            output.append(contentsOf: bytes)
            present = true
        }
        var escaped = false
        // Whether the value is already what a JSON string may hold (`json` made it so, or `raw`
        // asked for it as is): `html` and `url` choose the escaping too, but entities leave a
        // backslash or a line break that would break the string.
        var jsonReady = false
        for filter in expression.filters {
            switch filter {
            case .defaultValue(let fallback):
                if !present || output.count == start {
                    output.removeSubrange(start...)
                    output.append(contentsOf: fallback.utf8)
                    present = true
                }
            case .upper:
                for index in start..<output.count where output[index] >= 0x61 && output[index] <= 0x7A {
                    output[index] -= 0x20
                }
            case .lower:
                for index in start..<output.count where output[index] >= 0x41 && output[index] <= 0x5A {
                    output[index] += 0x20
                }
            case .html:
                escapeHTML(&output, from: start, scratch: &scratch)
                escaped = true
            case .json:
                transformTail(of: &output, from: start, scratch: &scratch) { Escaping.appendJSONString($0, to: &$1) }
                escaped = true
                jsonReady = true
            case .url:
                transformTail(of: &output, from: start, scratch: &scratch) { Escaping.appendURLEncoded($0, to: &$1) }
                escaped = true
            case .raw:
                escaped = true
                jsonReady = true
            }
        }
        switch use {
        case .body(.html) where !escaped:
            escapeHTML(&output, from: start, scratch: &scratch)
        case .body(.json) where !jsonReady:
            transformTail(of: &output, from: start, scratch: &scratch) { Escaping.appendJSONString($0, to: &$1) }
        case .headerValue:
            // Always, even after `raw`: a value must never be able to start a new header line.
            Escaping.sanitizeHeaderValue(&output, from: start)
        case .logLine:
            // Always, even after `raw`: a value must never be able to start a new log line.
            if output[start...].contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) {
                transformTail(of: &output, from: start, scratch: &scratch) { Escaping.appendLogEscaped($0, to: &$1) }
            }
        default:
            break
        }
    }

    /// Most values (paths, methods, ids) hold nothing HTML escapes: those are left in place.
    @inline(__always)
    private func escapeHTML(_ output: inout [UInt8], from start: Int, scratch: inout [UInt8]) {
        guard output[start...].contains(where: Escaping.changesInHTML) else { return }
        transformTail(of: &output, from: start, scratch: &scratch) { Escaping.appendHTML($0, to: &$1) }
    }

    /// Replaces `output[start...]` with `transform(output[start...])`, using `scratch` as the copy.
    @inline(__always)
    private func transformTail(
        of output: inout [UInt8], from start: Int, scratch: inout [UInt8],
        _ transform: ([UInt8], inout [UInt8]) -> Void
    ) {
        guard output.count > start else { return }
        scratch.removeAllKeepingCapacity()
        scratch.append(contentsOf: output[start...])
        output.removeSubrange(start...)
        transform(scratch, &output)
    }
}

extension Template {
    /// Compiles template text on its own, outside a rules file (tools, tests, the template
    /// fuzzer). Header variables get slots of their own.
    public static func compile(_ text: String, use: TemplateUse) throws(TemplateError) -> Template {
        try TemplateParser(headerSlots: HeaderSlotRegistry()).parse(text, use: use)
    }
}
