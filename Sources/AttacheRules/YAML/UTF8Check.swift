/// Finds the first byte sequence that is not UTF-8, so a diagnostic can point at it.
enum UTF8Check {
    struct Problem {
        var offset: Int
        var message: String
    }

    static func firstProblem(in bytes: [UInt8]) -> Problem? {
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            return Problem(offset: 0, message: "file is UTF-16 (it starts with a byte order mark); save it as UTF-8")
        }
        var index = 0
        while index < bytes.count {
            if bytes[index] < 0x80 {
                index += 1
                continue
            }
            let length = Escaping.validSequenceLength(bytes, at: index)
            guard length > 0 else {
                let hex = String(bytes[index], radix: 16, uppercase: true)
                return Problem(
                    offset: index,
                    message: "file is not valid UTF-8 (byte 0x\(hex) at offset \(index)); save it as UTF-8")
            }
            index += length
        }
        return nil
    }
}
