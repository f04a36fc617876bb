/// A problem in a template's text, at a Unicode-scalar offset inside that text.
public struct TemplateError: Error, Sendable {
    public var code: DiagnosticCode
    public var message: String
    public var offset: Int
}
