#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import NIOConcurrencyHelpers

/// Writes access-log lines to a file descriptor (standard output) without ever blocking an
/// event loop: lines are gathered per loop and handed, a batch at a time, to one writer thread.
/// If the reader of the output stalls, batches queue up to a bound and further lines are
/// counted as dropped rather than held.
public final class AccessLogWriter: Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "attache.access-log")
    private let pending = NIOLockedValueBox<Int>(0)
    private let dropped = NIOLockedValueBox<Int>(0)
    /// Bytes queued for the writer thread beyond which batches are dropped.
    public static let maximumPendingBytes = 16 << 20

    public init(descriptor: Int32 = 1) {
        self.descriptor = descriptor
    }

    /// Lines dropped because the output could not keep up.
    public var droppedLines: Int { dropped.withLockedValue { $0 } }

    /// Queues a batch of complete lines (each ending in `\n`).
    public func write(_ batch: [UInt8], lines: Int) {
        let accepted = pending.withLockedValue { pending -> Bool in
            guard pending + batch.count <= Self.maximumPendingBytes else { return false }
            pending += batch.count
            return true
        }
        guard accepted else {
            dropped.withLockedValue { $0 += lines }
            return
        }
        queue.async { [descriptor, pending] in
            batch.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR || errno == EAGAIN { continue }
                        break
                    }
                    offset += written
                }
            }
            pending.withLockedValue { $0 -= batch.count }
        }
    }

    /// Waits until every queued batch is written (shutdown).
    public func flush() {
        queue.sync {}
    }
}
