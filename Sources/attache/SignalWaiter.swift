#if canImport(Glibc)
import Glibc
#endif

/// The pipe the signal handler writes to. Set before any handler is installed; the handler
/// only reads it.
nonisolated(unsafe) private var signalPipe: (read: Int32, write: Int32) = (-1, -1)

/// The handler: the signal's number as one byte into the pipe. `write` is async-signal-safe,
/// the write end never blocks, and `errno` is put back for the code the signal interrupted.
private func forwardSignal(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipe.write, &byte, 1)
    errno = saved
}

/// SIGTERM / SIGINT (stop) and SIGHUP (reload), handled from the moment it is made: each
/// signal's number goes into a pipe and waits there until `wait` reads it.
///
/// A dispatch signal source (what this replaces) needs the signal ignored and delivers it
/// through a dispatch thread: under valgrind (one thread at a time) a SIGINT was lost twice in
/// the benchmark's instruction count, once sent as soon as the port answered and once after a
/// load run, and attache kept running. A handler of our own has no such window.
final class SignalWaiter {
    private let stopping: [Int32]
    private let reloading: Int32

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// Made once per process (the handlers are process-wide).
    init(stopping: [Int32], reloading: Int32) throws(SetupError) {
        self.stopping = stopping
        self.reloading = reloading
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw SetupError(description: "cannot make the signal pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // Reads block; only the handler's end must never wait.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        signalPipe = (ends[0], ends[1])
        var handled = sigset_t()
        sigemptyset(&handled)
        for number in stopping + [reloading] {
            signal(number, forwardSignal)
            sigaddset(&handled, number)
        }
        // A process can start with them blocked (the mask is inherited: a parent spawning from
        // a dispatch worker thread, which blocks signals, passes that on); blocked, they would
        // wait forever. Threads started from here on inherit the unblocked mask.
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
    }

    /// Blocks until a stopping signal arrives and returns it; runs `onReload` for each reload
    /// signal on the way.
    func wait(onReload: () -> Void) -> Int32 {
        while true {
            var byte: UInt8 = 0
            let count = read(signalPipe.read, &byte, 1)
            if count == 1 {
                let number = Int32(byte)
                if number == reloading {
                    onReload()
                    continue
                }
                if stopping.contains(number) { return number }
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                // The pipe is ours and stays open: nothing else can end it. Stop rather than spin.
                return stopping.first ?? SIGTERM
            }
        }
    }
}
