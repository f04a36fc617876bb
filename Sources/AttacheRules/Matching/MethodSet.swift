/// A set of request methods. The nine RFC 9110/5789 methods are bits; others (`PURGE`,
/// WebDAV's `PROPFIND`) are kept by name. Methods are case-sensitive (RFC 9110 §9.1).
public struct MethodSet: Sendable, Hashable, CustomStringConvertible {
    /// Standard methods in bit order; `MethodSet.bucket(of:)` numbers them the same way.
    public static let standard = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
    /// The bucket of every method that is not standard.
    public static let otherBucket = standard.count
    public static let bucketCount = standard.count + 1

    private(set) var standardBits: UInt16 = 0
    private(set) var others: [[UInt8]] = []

    public init() {}

    public init(_ names: [String]) {
        for name in names { insert(name) }
    }

    public mutating func insert(_ name: String) {
        if let index = MethodSet.standard.firstIndex(of: name) {
            standardBits |= 1 << index
        } else if !others.contains(Array(name.utf8)) {
            others.append(Array(name.utf8))
        }
    }

    public var names: [String] {
        MethodSet.standard.enumerated().filter { standardBits & (1 << $0.offset) != 0 }.map(\.element)
            + others.map { String(decoding: $0, as: UTF8.self) }
    }

    public var description: String { names.joined(separator: ", ") }

    /// The index bucket of a request's method: 0–8 for standard methods, `otherBucket` otherwise.
    @inline(__always)
    public static func bucket(of method: UnsafeRawBufferPointer) -> Int {
        // Dispatch on length and first byte, then compare: no hashing, no allocation.
        switch method.count {
        case 3:
            if equals(method, "GET") { return 0 }
            if equals(method, "PUT") { return 3 }
        case 4:
            if equals(method, "HEAD") { return 1 }
            if equals(method, "POST") { return 2 }
        case 5:
            if equals(method, "TRACE") { return 7 }
            if equals(method, "PATCH") { return 8 }
        case 6:
            if equals(method, "DELETE") { return 4 }
        case 7:
            if equals(method, "CONNECT") { return 5 }
            if equals(method, "OPTIONS") { return 6 }
        default:
            break
        }
        return otherBucket
    }

    @inline(__always)
    private static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count == count else { return false }
        let pointer = literal.utf8Start
        for index in 0..<count where bytes[index] != pointer[index] { return false }
        return true
    }

    /// Buckets this set occupies in the index.
    var buckets: [Int] {
        var result = (0..<MethodSet.standard.count).filter { standardBits & (1 << $0) != 0 }
        if !others.isEmpty { result.append(MethodSet.otherBucket) }
        return result
    }

    /// Whether a method already known to be in `bucket` belongs to the set.
    @inline(__always)
    func contains(bucket: Int, method: UnsafeRawBufferPointer) -> Bool {
        if bucket < MethodSet.otherBucket { return standardBits & (1 << bucket) != 0 }
        return others.contains { $0.elementsEqual(method) }
    }

    public func contains(_ method: String) -> Bool {
        Array(method.utf8).withUnsafeBytes { contains(bucket: MethodSet.bucket(of: $0), method: $0) }
    }

    public func isSuperset(of other: MethodSet) -> Bool {
        standardBits & other.standardBits == other.standardBits && other.others.allSatisfy(others.contains)
    }
}
