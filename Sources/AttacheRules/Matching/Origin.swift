/// Who produced a response's status: the upstream service, or attache itself (an error such as
/// 502/504, or a rule answering in the request phase).
public enum Origin: String, Sendable, Hashable, CaseIterable {
    case upstream
    case proxy

    var bit: UInt8 { self == .upstream ? 1 : 2 }
}
