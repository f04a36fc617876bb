#if canImport(Glibc)
import Glibc
#endif
import AttacheRules
import Logging

/// The swift-log handler for attache's own messages (startup, rule diagnostics, drain), written
/// to standard error: `attache: message key=value` as text, or one JSON object per line.
public struct ProcessLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let format: LogFormat
    private let label: String
    private let descriptor: Int32

    public init(label: String, format: LogFormat, descriptor: Int32 = 2) {
        self.label = label
        self.format = format
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line: [UInt8]
        switch format {
        case .text:
            var text = "\(label): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
            line = Array((text + "\n").utf8)
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("time")
            writer.time(epochNanoseconds: SystemClock.epochNanoseconds())
            writer.key("level")
            writer.string(event.level.rawValue)
            writer.key("logger")
            writer.string(label)
            writer.key("message")
            writer.string(event.message.description)
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                writer.key(key)
                writer.string(value.description)
            }
            writer.endObject()
            line = writer.bytes + [UInt8(ascii: "\n")]
        }
        line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
