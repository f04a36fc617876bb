/// A problem in a template's text, at a Unicode-scalar offset inside that text.
struct TemplateError: Error {
    var code: DiagnosticCode
    var message: String
    var offset: Int
}
