/// Where a template's text was written: a YAML scalar, or a whole `body_file`.
public enum TemplateOrigin: Sendable {
    case scalar(YAMLScalar, fallback: SourceLocation)
    case file(SourceFile)

    /// The file position of the template text's `offset`-th Unicode scalar.
    public func location(ofScalarOffset offset: Int) -> SourceLocation? {
        switch self {
        case .scalar(let scalar, let fallback):
            return scalar.location(ofScalarOffset: offset, fallback: fallback)
        case .file(let source):
            var iterator = source.scalars(from: 0)
            var index = 0
            while let (_, byteOffset) = iterator.next() {
                if index == offset { return source.location(ofByteOffset: byteOffset) }
                index += 1
            }
            return source.location(ofByteOffset: source.bytes.count)
        }
    }
}
