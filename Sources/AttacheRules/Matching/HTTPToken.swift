/// RFC 9110 §5.6.2 tokens: method names and field names.
public enum HTTPToken {
    /// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`
    @inlinable @inline(__always)
    public static func isTokenCharacter(_ byte: UInt8) -> Bool {
        // Two constant bitmaps, bytes 0-63 and 64-127 (`HTTPTokenTests` checks them against the
        // grammar): a lazily built table cost a `swift_once` check per byte on the parser's hot
        // path, and inlinable code lets the relay's parser use them without a call.
        if byte < 64 { return 0x03ff_6cfa_0000_0000 & (1 &<< UInt64(byte)) != 0 }
        if byte < 128 { return 0x57ff_ffff_c7ff_fffe & (1 &<< UInt64(byte &- 64)) != 0 }
        return false
    }

    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenCharacter)
    }
}
