/// RFC 9110 §5.6.2 tokens: method names and field names.
public enum HTTPToken {
    /// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`
    @inlinable @inline(__always)
    public static func isTokenCharacter(_ byte: UInt8) -> Bool {
        table.utf8Start[Int(byte)] == UInt8(ascii: "1")
    }

    /// "1" at the position of each token byte, 64 bytes a line (`HTTPTokenTests` checks it
    /// against the grammar): one load per byte on the parser's hot path. A literal, so nothing
    /// to initialise: a `static let` table cost a `swift_once` check per byte, and the bitmaps
    /// before it two compares and a shift.
    @inlinable
    public static var table: StaticString {
        """
        0000000000000000000000000000000001011111001101101111111111000000\
        0111111111111111111111111110001111111111111111111111111111101010\
        0000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000
        """
    }

    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenCharacter)
    }
}
