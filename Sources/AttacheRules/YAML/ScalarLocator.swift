/// Maps a position inside a scalar's value back to the file, so an error in a template points at
/// the offending `{{`, not at the start of the key.
///
/// The walk follows the scalar's source text alongside its value: non-blank characters must line
/// up one for one (after undoing quoting and escapes), while blanks and line breaks may have been
/// folded, so they are matched loosely. If the two ever disagree, the scalar's start is returned:
/// a less precise position, never a wrong line.
extension YAMLScalar {
    /// The location of the value's `scalarOffset`-th Unicode scalar.
    public func location(ofScalarOffset scalarOffset: Int, fallback: SourceLocation) -> SourceLocation {
        guard let byteOffset = sourceByteOffset(ofScalarOffset: scalarOffset) else { return fallback }
        return source.location(ofByteOffset: byteOffset)
    }

    func sourceByteOffset(ofScalarOffset target: Int) -> Int? {
        var source = self.source.scalars(from: sourceOffset)
        var pending: (scalar: Unicode.Scalar, offset: Int)? = nil
        func nextSource() -> (scalar: Unicode.Scalar, offset: Int)? {
            if let value = pending {
                pending = nil
                return value
            }
            return source.next()
        }

        // Skip the opening quote, or the whole block header line (`|-  # comment`).
        switch style {
        case .singleQuoted, .doubleQuoted:
            _ = nextSource()
        case .literal, .folded:
            while let (scalar, _) = nextSource() {
                if scalar == "\n" || scalar == "\r" { break }
            }
        case .plain:
            break
        }

        var index = 0
        for character in value.unicodeScalars {
            let isBlank = character == " " || character == "\t" || character == "\n" || character == "\r"
            var found: Int? = nil
            while let (scalar, offset) = nextSource() {
                if style == .doubleQuoted, scalar == "\\" {
                    // One escape sequence yields one value character (or none, for a line continuation).
                    guard let (escaped, _) = nextSource() else { return nil }
                    if escaped == "\n" || escaped == "\r" {
                        continue
                    }
                    let extra: Int
                    switch escaped {
                    case "x": extra = 2
                    case "u": extra = 4
                    case "U": extra = 8
                    default: extra = 0
                    }
                    for _ in 0..<extra { _ = nextSource() }
                    found = offset
                    break
                }
                if style == .singleQuoted, scalar == "'" {
                    // `''` is one quote in the value; a lone `'` ends the scalar.
                    guard let following = nextSource(), following.scalar == "'" else { return nil }
                    guard character == "'" else { return nil }
                    found = offset
                    break
                }
                if scalar == character {
                    found = offset
                    break
                }
                let sourceIsBlank = scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
                if isBlank {
                    // A folded break or stripped indentation: this value blank came from here.
                    pending = sourceIsBlank ? nil : (scalar, offset)
                    found = offset
                    break
                }
                if !sourceIsBlank {
                    return nil
                }
            }
            guard let offset = found else { return nil }
            if index == target { return offset }
            index += 1
        }
        return nil
    }
}
