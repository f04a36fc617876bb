/// What the admin port answers to one request.
public struct AdminResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra header fields (`allow` on a 405).
    public var headers: [String: String]

    public init(status: Int, contentType: String, body: [UInt8], headers: [String: String] = [:]) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    static func text(_ status: Int, _ text: String, headers: [String: String] = [:]) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8), headers: headers)
    }

    static func json(_ status: Int, _ body: [UInt8]) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", body: body + [UInt8(ascii: "\n")])
    }
}
