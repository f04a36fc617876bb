/// Parses template text (`Hello {{ request.path | html }}`) into a `Template`.
///
/// Grammar inside `{{ … }}`: a variable (`request.header.user-agent`) or a string literal
/// (`"text"` or `'text'`, with `\"`, `\'` and `\\` escapes), then any number of `| filter` or
/// `| default("text")`. Errors carry the offset of the exact character at fault.
struct TemplateParser {
    let headerSlots: HeaderSlotRegistry

    func parse(_ text: String, use: TemplateUse, origin: TemplateOrigin? = nil) throws(TemplateError) -> Template {
        let scalars = Array(text.unicodeScalars)
        var segments: [Template.Segment] = []
        var literal: [UInt8] = []
        var index = 0
        while index < scalars.count {
            if scalars[index] == "{", index + 1 < scalars.count, scalars[index + 1] == "{" {
                let open = index
                guard let close = Self.findClose(scalars, from: index + 2) else {
                    throw TemplateError(
                        code: .templateSyntax, message: "unterminated '{{' (no matching '}}')", offset: open)
                }
                if !literal.isEmpty {
                    segments.append(.literal(literal))
                    literal = []
                }
                var lexer = ExpressionLexer(scalars: scalars, position: open + 2, end: close)
                let expression = try parseExpression(&lexer, open: open)
                segments.append(.value(expression))
                index = close + 2
                continue
            }
            literal.append(contentsOf: String(scalars[index]).utf8)
            index += 1
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        return Template(text: text, use: use, segments: segments, origin: origin)
    }

    /// The index of the `}}` closing an expression, skipping `}}` inside string literals.
    private static func findClose(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        var quote: Unicode.Scalar? = nil
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == "\\" {
                    index += 2
                    continue
                }
                if scalar == open { quote = nil }
            } else if scalar == "\"" || scalar == "'" {
                quote = scalar
            } else if scalar == "}", index + 1 < scalars.count, scalars[index + 1] == "}" {
                return index
            } else if scalar == "\n" {
                return nil
            }
            index += 1
        }
        return nil
    }

    private func parseExpression(_ lexer: inout ExpressionLexer, open: Int) throws(TemplateError) -> Template.Expression {
        lexer.skipSpaces()
        guard !lexer.atEnd else {
            throw TemplateError(code: .templateSyntax, message: "empty '{{ }}': expected a variable name", offset: open)
        }
        let sourceOffset = lexer.position
        let source: Template.ValueSource
        if lexer.peek == "\"" || lexer.peek == "'" {
            source = .literal(Array(try lexer.stringLiteral().utf8))
        } else {
            let name = lexer.name()
            guard !name.isEmpty else {
                throw TemplateError(
                    code: .templateSyntax, message: "expected a variable name, found '\(lexer.peek!)'",
                    offset: lexer.position)
            }
            source = .variable(try resolveVariable(name, offset: sourceOffset))
        }
        var filters: [TemplateFilter] = []
        while true {
            lexer.skipSpaces()
            if lexer.atEnd { break }
            guard lexer.peek == "|" else {
                throw TemplateError(
                    code: .templateSyntax, message: "expected '|' or '}}', found '\(lexer.peek!)'",
                    offset: lexer.position)
            }
            lexer.advance()
            lexer.skipSpaces()
            let filterOffset = lexer.position
            let name = lexer.name()
            guard !name.isEmpty else {
                throw TemplateError(
                    code: .templateSyntax, message: "expected a filter name after '|'", offset: filterOffset)
            }
            lexer.skipSpaces()
            var argument: String? = nil
            if lexer.peek == "(" {
                lexer.advance()
                lexer.skipSpaces()
                guard lexer.peek == "\"" || lexer.peek == "'" else {
                    throw TemplateError(
                        code: .templateSyntax, message: "expected a quoted string as the argument of '\(name)'",
                        offset: lexer.position)
                }
                argument = try lexer.stringLiteral()
                lexer.skipSpaces()
                guard lexer.peek == ")" else {
                    throw TemplateError(
                        code: .templateSyntax, message: "expected ')' after the argument of '\(name)'",
                        offset: lexer.position)
                }
                lexer.advance()
            }
            filters.append(try resolveFilter(name, argument: argument, offset: filterOffset))
        }
        return Template.Expression(source: source, filters: filters, offset: sourceOffset)
    }

    private func resolveFilter(_ name: String, argument: String?, offset: Int) throws(TemplateError) -> TemplateFilter {
        let filter: TemplateFilter
        switch name {
        case "html": filter = .html
        case "json": filter = .json
        case "url": filter = .url
        case "upper": filter = .upper
        case "lower": filter = .lower
        case "raw": filter = .raw
        case "default":
            guard let argument else {
                throw TemplateError(
                    code: .templateSyntax, message: "filter 'default' needs a value: default(\"…\")", offset: offset)
            }
            return .defaultValue(argument)
        default:
            throw TemplateError(
                code: .unknownFilter,
                message: "unknown filter '\(name)'\(Suggestions.didYouMean(name, among: TemplateFilter.names))",
                offset: offset)
        }
        if argument != nil {
            throw TemplateError(code: .templateSyntax, message: "filter '\(name)' takes no argument", offset: offset)
        }
        return filter
    }

    private func resolveVariable(_ name: String, offset: Int) throws(TemplateError) -> TemplateVariable {
        if let variable = TemplateVariable.fixedNames[name] { return variable }
        for (prefix, isRequest) in [("request.header.", true), ("response.header.", false)] where name.hasPrefix(prefix) {
            let header = String(name.dropFirst(prefix.count)).lowercased()
            guard HTTPToken.isToken(header) else {
                throw TemplateError(
                    code: .unknownVariable, message: "'\(header)' is not a valid header name in '\(name)'",
                    offset: offset + prefix.unicodeScalars.count)
            }
            return isRequest
                ? .requestHeader(name: header, slot: headerSlots.requestSlot(for: header))
                : .responseHeader(name: header, slot: headerSlots.responseSlot(for: header))
        }
        if name.hasPrefix("path.") {
            let capture = String(name.dropFirst(5))
            if PathPattern.isCaptureName(capture) { return .pathCapture(capture) }
        }
        throw TemplateError(
            code: .unknownVariable,
            message: "unknown variable '\(name)'\(Suggestions.didYouMean(name, among: TemplateVariable.suggestionNames))",
            offset: offset)
    }
}

/// Scans the inside of one `{{ … }}`.
private struct ExpressionLexer {
    let scalars: [Unicode.Scalar]
    var position: Int
    let end: Int

    var atEnd: Bool { position >= end }
    var peek: Unicode.Scalar? { position < end ? scalars[position] : nil }

    mutating func advance() { position += 1 }

    mutating func skipSpaces() {
        while let scalar = peek, scalar == " " || scalar == "\t" { position += 1 }
    }

    /// Letters, digits and `. _ -`: variable and filter names.
    mutating func name() -> String {
        var result = String.UnicodeScalarView()
        while let scalar = peek,
            ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || scalar == "." || scalar == "_" || scalar == "-"
        {
            result.append(scalar)
            position += 1
        }
        return String(result)
    }

    mutating func stringLiteral() throws(TemplateError) -> String {
        let open = position
        let quote = scalars[position]
        position += 1
        var result = String.UnicodeScalarView()
        while position < end {
            let scalar = scalars[position]
            if scalar == "\\", position + 1 < end {
                result.append(scalars[position + 1])
                position += 2
                continue
            }
            if scalar == quote {
                position += 1
                return String(result)
            }
            result.append(scalar)
            position += 1
        }
        throw TemplateError(code: .templateSyntax, message: "unterminated string literal", offset: open)
    }
}
