#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file-system calls loading needs, on the C library directly (no Foundation in the
/// rules module). Symlinks are followed everywhere: a ConfigMap mount is made of them.
enum FileSystem {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    enum Kind {
        case file
        case directory
        case other
    }

    /// What `path` is after following symlinks, or `nil` if it does not exist.
    static func kind(of path: String) -> Kind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// The size of a file in bytes (symlinks followed), or `nil` if it cannot be examined.
    static func size(of path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Reads a whole regular file; stops after `limit + 1` bytes so an oversized file (one that
    /// grew since it was measured) cannot exhaust memory. Callers compare the count to `limit`.
    /// Opens without blocking and refuses anything but a regular file (a FIFO named
    /// `rules.yaml` must not hang a reload).
    static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw Failure(description: "cannot open '\(path)': \(errorText())") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "cannot read '\(path)': not a regular file")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot read '\(path)': \(errorText())")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Names in a directory (not `.` or `..`), unsorted.
    static func list(_ path: String) throws(Failure) -> [String] {
        guard let directory = opendir(path) else {
            throw Failure(description: "cannot list '\(path)': \(errorText())")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The canonical absolute path (symlinks resolved), or `nil` if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") { return name }
        if directory.isEmpty || directory == "." { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
