import HTTPDifferential

/// libFuzzer entry point: the differential target. The first byte chooses requests (even) or
/// responses (odd); the rest is fed to attache's parser and to llhttp (NIOHTTP1). Any
/// disagreement that `DocumentedDifference` does not explain stops the run with both views, as
/// does a head that attache parses differently in one read and byte by byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 1, let data else { return 0 }
    let requests = data[0] & 1 == 0
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if let difference = SplitConsistency.firstHeadDifference(bytes, requests: requests) {
        fatalError("attache parses a head differently in one read and byte by byte: \(String(decoding: bytes, as: UTF8.self).debugDescription)\n  \(difference)")
    }
    let ours = requests ? AttacheSide.requests(bytes) : AttacheSide.responses(bytes)
    let theirs = requests ? LLHTTPSide.requests(bytes) : LLHTTPSide.responses(bytes)
    if ours.agrees(with: theirs) { return 0 }
    if DocumentedDifference.explain(bytes, attache: ours, llhttp: theirs, requests: requests) != nil { return 0 }
    fatalError(
        """
        attache and llhttp disagree on \(requests ? "requests" : "responses"): \(String(decoding: bytes, as: UTF8.self).debugDescription)
          attache: \(ours)
          llhttp:  \(theirs)
        """)
}
