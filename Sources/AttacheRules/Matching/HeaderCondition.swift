/// A condition on one request header: `accept: text/html`, `{regex: …}`, `{present: false}`.
/// Names compare case-insensitively; a request with the field several times satisfies a value
/// condition when any one of its lines does.
public struct HeaderCondition: Sendable {
    public enum Test: Sendable {
        /// The value (with surrounding whitespace removed) is exactly one of these.
        case equals([[UInt8]])
        case regex(PathRegex)
        case present(Bool)
    }

    /// Lower-cased field name.
    public let name: String
    /// The name's slot in the rule table (see `RuleTable.requestHeaderNames`).
    public let slot: Int
    public let test: Test

    /// A stable text form, used to compare conditions for lint and in `explain`.
    public var description: String {
        switch test {
        case .equals(let values):
            return "\(name) = " + values.map { "\"\(String(decoding: $0, as: UTF8.self))\"" }.joined(separator: " | ")
        case .regex(let regex): return "\(name) ~ /\(regex.pattern)/"
        case .present(let present): return present ? "\(name) present" : "\(name) absent"
        }
    }

    /// Evaluates against the fields the relay extracted for the rule table's slots.
    func holds(in fields: UnsafeBufferPointer<HeaderField>) -> Bool {
        switch test {
        case .present(let wanted):
            return fields.contains { $0.slot == slot } == wanted
        case .equals(let values):
            return fields.contains { field in
                field.slot == slot && values.contains { $0.elementsEqual(field.value) }
            }
        case .regex(let regex):
            return fields.contains { field in field.slot == slot && regex.matches(field.value) }
        }
    }
}
