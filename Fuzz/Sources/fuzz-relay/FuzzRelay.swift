import AttacheRelay
import AttacheRules
import NIOCore

/// libFuzzer entry point: the relay's client and upstream handlers on embedded channels
/// (`EmbeddedRelay`), driven by a script. Each step is an opcode byte, and for sends a length
/// byte and that many bytes:
///
///   0 client sends · 1 upstream sends · 2 time passes (next byte: seconds) · 3 client closes ·
///   4 upstream closes · 5 both outputs are read
///
/// The rules exercise both phases (a request-phase answer, a response-phase replacement with
/// templates, record and log). Any crash, precondition failure, hang or sanitizer report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRelay(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    guard
        let relay = try? EmbeddedRelay(
            table: FuzzRules.table,
            configure: {
                $0.headTimeout = .seconds(10)
                $0.idleTimeout = .seconds(30)
                $0.responseTimeout = .seconds(20)
                $0.limits = HeadLimits(maximumRequestLine: 512, maximumHeaderBytes: 2048, maximumFields: 20)
            })
    else { fatalError("the fuzz relay did not start") }
    var index = 0
    func take(_ count: Int) -> [UInt8] {
        let end = min(input.count, index + count)
        defer { index = end }
        return Array(input[index..<end])
    }
    while index < input.count {
        let op = input[index] % 6
        index += 1
        switch op {
        case 0, 1:
            let length = Int(take(1).first ?? 0) + 1
            let bytes = take(length)
            if op == 0 { try? relay.clientSends(bytes) } else { try? relay.upstreamSends(bytes) }
        case 2:
            relay.advance(by: .seconds(Int64(take(1).first ?? 1)))
        case 3:
            relay.clientCloses()
        case 4:
            relay.upstreamCloses()
        default:
            _ = try? relay.clientOutput()
            _ = try? relay.upstreamOutput()
        }
    }
    relay.advance(by: .seconds(120))
    relay.finish()
    return 0
}

enum FuzzRules {
    static let table: RuleTable = {
        let text = """
            rules:
              - name: local
                when: { method: [GET, HEAD], path: "/local/{id}" }
                respond: { status: 200, headers: { x-id: "{{ path.id }}" }, body: "local {{ path.id | html }}" }
              - name: replace-404
                when: { status: 404, origin: upstream }
                respond: { headers: { content-type: text/html }, body: "<p>{{ request.path }}</p>" }
              - name: proxy-errors
                when: { status: 5xx, origin: proxy }
                respond: { headers: { content-type: application/json }, body: '{"s": {{ response.status }}}' }
              - name: profile
                record: { key: "{{ request.method }} {{ request.path }}", max_keys: 8, history: 2 }
              - name: access
                log: "{{ request.method }} {{ request.target }} {{ response.status }} {{ request.header.x-a }}"
            """
        guard let table = RuleLoader().load(text: text).table else { fatalError("fuzz rules do not compile") }
        return table
    }()
}
