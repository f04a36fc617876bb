/// The bytes of one rules file (or a file a rule refers to) and the path it is reported under.
///
/// Kept alive while a file is being read and decoded so diagnostics can map positions inside a
/// scalar (a template's `{{`) back to the exact line and column in the file.
public final class SourceFile: Sendable {
    /// The path as the user named it (`rules/site.yaml`), used in every diagnostic.
    public let path: String
    public let bytes: [UInt8]
    /// Byte offset at which each line starts; `lineStarts[0] == 0`.
    private let lineStarts: [Int]
    /// True when every byte is ASCII, so a column is a byte count.
    private let isASCII: Bool

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                starts.append(index + 1)
            } else if byte == UInt8(ascii: "\r") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                    index += 1
                }
                starts.append(index + 1)
            }
            index += 1
        }
        self.lineStarts = starts
        self.isASCII = bytes.allSatisfy { $0 < 0x80 }
    }

    public convenience init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// A location from 1-based line and column.
    public func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: path, line: line, column: column)
    }

    /// The location of a byte offset (columns in Unicode scalars).
    public func location(ofByteOffset offset: Int) -> SourceLocation {
        let clamped = max(0, min(offset, bytes.count))
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= clamped { low = mid } else { high = mid - 1 }
        }
        var column = 1
        var index = lineStarts[low]
        while index < clamped {
            index += SourceFile.scalarLength(leadingByte: bytes[index])
            column += 1
        }
        return SourceLocation(file: path, line: low + 1, column: column)
    }

    /// The byte offset of a 1-based line and column, or `nil` when it is outside the file.
    public func byteOffset(line: Int, column: Int) -> Int? {
        guard line >= 1, line <= lineStarts.count else { return nil }
        if isASCII { return min(lineStarts[line - 1] + column - 1, bytes.count) }
        var index = lineStarts[line - 1]
        var remaining = column - 1
        while remaining > 0 {
            guard index < bytes.count else { return nil }
            index += SourceFile.scalarLength(leadingByte: bytes[index])
            remaining -= 1
        }
        return min(index, bytes.count)
    }

    /// The Unicode scalars from a byte offset to the end of the file, with their byte offsets.
    func scalars(from offset: Int) -> SourceScalarIterator {
        SourceScalarIterator(bytes: bytes, offset: offset)
    }

    static func scalarLength(leadingByte byte: UInt8) -> Int {
        switch byte {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }
}

/// Walks a file's UTF-8 bytes one Unicode scalar at a time, remembering byte offsets.
struct SourceScalarIterator: IteratorProtocol {
    let bytes: [UInt8]
    var offset: Int

    mutating func next() -> (scalar: Unicode.Scalar, offset: Int)? {
        guard offset < bytes.count else { return nil }
        let start = offset
        let length = SourceFile.scalarLength(leadingByte: bytes[offset])
        let end = min(offset + length, bytes.count)
        offset = end
        var decoder = UTF8()
        var iterator = bytes[start..<end].makeIterator()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return (scalar, start)
        }
        return ("\u{FFFD}", start)
    }
}
