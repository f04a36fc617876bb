/// The values a request-phase `respond` renders with: those of `base`, except the variables that
/// describe the response (`response.*`, `duration.ms`, `upstream.ms`, `upstream.address`), which
/// have no value: there is no response yet, and the upstream is never asked. Lint warns about
/// them (A204); the relay and `attache explain` both render through this, so all three agree.
public struct RequestPhaseContext<Base: TemplateContext>: TemplateContext {
    public var base: Base

    public init(_ base: Base) {
        self.base = base
    }

    public func appendValue(of variable: TemplateVariable, to output: inout [UInt8]) -> Bool {
        if variable.needsResponse { return false }
        return base.appendValue(of: variable, to: &output)
    }
}
