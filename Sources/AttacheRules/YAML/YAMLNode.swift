/// A YAML node with the position it came from.
///
/// Aliases share the anchored node instance, so a file full of aliases costs no more memory than
/// its text; `weight` counts the nodes as if every alias were expanded, which is what a walk over
/// the tree costs and what the reader caps ("billion laughs").
public final class YAMLNode: Sendable {
    public enum Content: Sendable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public let content: Content
    /// Where the node starts (for a scalar: its first character, or the quote / block indicator).
    public let location: SourceLocation
    /// Nodes in this subtree with aliases expanded, this node included.
    public let weight: Int

    init(content: Content, location: SourceLocation, weight: Int) {
        self.content = content
        self.location = location
        self.weight = weight
    }

    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// What a user would call this node in "expected …, found …" messages.
    public var kindDescription: String {
        switch content {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar(let scalar):
            switch scalar.resolved {
            case .null: return "nothing (null)"
            case .bool: return "a boolean"
            case .int: return "a number"
            case .float: return "a number"
            case .string: return "a string"
            }
        }
    }
}

/// One `key: value` entry of a mapping, in file order.
public struct YAMLPair: Sendable {
    public let key: YAMLNode
    public let value: YAMLNode

    /// The key's text (keys are always scalars; the reader rejects complex keys).
    public var name: String { key.scalar?.value ?? "" }
}

/// A scalar's text, how it was written, and enough position data to locate any character of it.
public struct YAMLScalar: Sendable {
    public enum Style: Sendable {
        case plain
        case singleQuoted
        case doubleQuoted
        case literal
        case folded
    }

    /// What the scalar means under the YAML 1.2 core schema (quoted scalars are always strings).
    public enum Resolved: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
    }

    public let value: String
    public let style: Style
    /// An explicit tag (`!!str`), already expanded to its full form, or `nil`.
    public let tag: String?
    /// The file and byte offset where the scalar's source text starts.
    let source: SourceFile
    let sourceOffset: Int
    /// What the scalar means, resolved once when it is read.
    public let resolved: Resolved

    init(value: String, style: Style, tag: String?, source: SourceFile, sourceOffset: Int) {
        self.value = value
        self.style = style
        self.tag = tag
        self.source = source
        self.sourceOffset = sourceOffset
        self.resolved = YAMLScalar.resolve(value, style: style, tag: tag)
    }

    static func resolve(_ value: String, style: Style, tag: String?) -> Resolved {
        if let tag {
            switch tag {
            case "tag:yaml.org,2002:str": return .string(value)
            case "tag:yaml.org,2002:null": return .null
            case "tag:yaml.org,2002:bool": return YAMLScalar.resolvePlain(value).boolOrString(value)
            case "tag:yaml.org,2002:int": return YAMLScalar.resolvePlain(value).intOrString(value)
            default: return .string(value)
            }
        }
        guard style == .plain else { return .string(value) }
        return YAMLScalar.resolvePlain(value)
    }


    static func resolvePlain(_ value: String) -> Resolved {
        guard let first = value.utf8.first else { return .null }
        // Dispatch on the first byte: most plain scalars are words or paths, and only these
        // bytes can start a keyword or a number.
        switch first {
        case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"):
            if value == "~" || value == "null" || value == "Null" || value == "NULL" { return .null }
        case UInt8(ascii: "t"), UInt8(ascii: "T"):
            if value == "true" || value == "True" || value == "TRUE" { return .bool(true) }
        case UInt8(ascii: "f"), UInt8(ascii: "F"):
            if value == "false" || value == "False" || value == "FALSE" { return .bool(false) }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            if let int = parseInt(value) { return .int(int) }
            if let double = Double(value) { return .float(double) }
        default:
            break
        }
        return .string(value)
    }

    /// Decimal, `0x` hexadecimal and `0o` octal integers, as YAML 1.2's core schema reads them.
    private static func parseInt(_ value: String) -> Int? {
        var text = Substring(value)
        var negative = false
        if text.first == "-" || text.first == "+" {
            negative = text.first == "-"
            text = text.dropFirst()
        }
        var radix = 10
        if text.hasPrefix("0x") {
            radix = 16
            text = text.dropFirst(2)
        } else if text.hasPrefix("0o") {
            radix = 8
            text = text.dropFirst(2)
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        guard let magnitude = Int(text, radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }
}

extension YAMLScalar.Resolved {
    fileprivate func boolOrString(_ value: String) -> YAMLScalar.Resolved {
        if case .bool = self { return self }
        return .string(value)
    }

    fileprivate func intOrString(_ value: String) -> YAMLScalar.Resolved {
        if case .int = self { return self }
        return .string(value)
    }
}
