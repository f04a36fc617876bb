import Testing

@testable import AttacheRules

/// The token bitmaps against RFC 9110 §5.6.2, for every byte value.
@Suite struct HTTPTokenTests {
    @Test func everyByteAgreesWithTheGrammar() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let disagreeing = (0...255).map(UInt8.init).filter { HTTPToken.isTokenCharacter($0) != tchar.contains($0) }
        #expect(disagreeing == [])
        #expect((0...255).count { HTTPToken.isTokenCharacter(UInt8($0)) } == 77)
        #expect(HTTPToken.table.utf8CodeUnitCount == 256)
    }
}
