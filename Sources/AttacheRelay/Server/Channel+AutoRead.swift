import NIOCore

extension Channel {
    /// Turns reading on or off from the channel's own loop. NIO stops asking the socket for
    /// more once it is off, and starts a read when it is turned back on.
    func setAutoRead(_ on: Bool) {
        // Fails only on a closed channel, which reads nothing either way.
        try? syncOptions?.setOption(.autoRead, value: on)
    }
}
