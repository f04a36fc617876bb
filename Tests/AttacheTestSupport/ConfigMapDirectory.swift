import Foundation

/// A scratch directory laid out the way kubelet's atomic writer lays out a ConfigMap.
public final class ConfigMapDirectory {
    public let root: String
    private var generation = 0

    public init() throws {
        root = NSTemporaryDirectory() + "attache-configmap-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes a new timestamped directory with `files`, points `..data` at it atomically
    /// (a `..data_tmp` symlink renamed over it), links the visible names, and removes the
    /// previous directory and the names no longer present.
    public func publish(_ files: [String: String]) throws {
        let manager = FileManager.default
        generation += 1
        let stamped = "..2026_11_26_12_00_\(String(format: "%02d", generation)).\(generation)"
        try manager.createDirectory(atPath: "\(root)/\(stamped)", withIntermediateDirectories: false)
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: "\(root)/\(stamped)/\(name)")) }
        let previous = try? manager.destinationOfSymbolicLink(atPath: "\(root)/..data")
        try? manager.removeItem(atPath: "\(root)/..data_tmp")
        try manager.createSymbolicLink(atPath: "\(root)/..data_tmp", withDestinationPath: stamped)
        guard rename("\(root)/..data_tmp", "\(root)/..data") == 0 else { throw CocoaError(.fileWriteUnknown) }
        for name in files.keys where !manager.fileExists(atPath: "\(root)/\(name)") {
            try manager.createSymbolicLink(atPath: "\(root)/\(name)", withDestinationPath: "..data/\(name)")
        }
        let visible = try manager.contentsOfDirectory(atPath: root).filter { !$0.hasPrefix(".") }
        for name in visible where files[name] == nil { try manager.removeItem(atPath: "\(root)/\(name)") }
        if let previous { try manager.removeItem(atPath: "\(root)/\(previous)") }
    }
}
