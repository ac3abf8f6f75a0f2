internal import CZeroMQ
import MeshCore

/// One libzmq socket, closed exactly once, keeping its context alive while open.
///
/// Not thread-safe, like the socket it wraps: it is made and configured by one thread, then
/// handed to the I/O thread that alone uses and closes it.
final class ZeroMQSocket {
    /// Strong on purpose: a socket outliving its context hangs `zmq_ctx_term` (PITFALLS).
    let context: ZeroMQContext
    /// What the socket is, for error messages (`"PUB of data-1"`).
    let label: String
    let type: ZeroMQSystem.SocketType
    private(set) var handle: ZeroMQSystem.Handle?

    /// Makes a socket of `type` in `context`.
    init(_ type: ZeroMQSystem.SocketType, in context: ZeroMQContext, label: String) throws(TransportError) {
        self.context = context
        self.type = type
        self.label = "\(type.name) \(label)"
        self.handle = try ZeroMQSystem.makeSocket(context.handle, type)
    }

    private var open: ZeroMQSystem.Handle {
        guard let handle = self.handle else { preconditionFailure("\(self.label) used after close") }
        return handle
    }

    /// Sets an integer option.
    func set(_ option: ZeroMQSystem.IntOption, _ value: Int32) throws(TransportError) {
        try ZeroMQSystem.setOption(self.open, option, value, on: self.label)
    }

    /// Sets a duration option in milliseconds (linger, heartbeats, reconnect, timeouts).
    func set(_ option: ZeroMQSystem.IntOption, _ value: Duration) throws(TransportError) {
        try self.set(option, Int32(clamping: value.milliseconds))
    }

    /// Sets ZMQ_MAXMSGSIZE.
    func setMaximumMessageSize(_ bytes: Int) throws(TransportError) {
        try ZeroMQSystem.setMaximumMessageSize(self.open, bytes, on: self.label)
    }

    /// Sets a text option (CURVE keys in Z85, the ZAP domain).
    func set(_ option: ZeroMQSystem.BytesOption, _ text: String) throws(TransportError) {
        try ZeroMQSystem.setOption(self.open, option, Array(text.utf8), on: self.label)
    }

    /// Subscribes (SUB) or applies a subscription to the last pipe that sent one (XPUB manual).
    func subscribe(_ prefix: [UInt8]) throws(TransportError) {
        try ZeroMQSystem.setOption(self.open, .subscribe, prefix, on: self.label)
    }

    /// Undoes one ``subscribe(_:)``.
    func unsubscribe(_ prefix: [UInt8]) throws(TransportError) {
        try ZeroMQSystem.setOption(self.open, .unsubscribe, prefix, on: self.label)
    }

    /// Binds to `endpoint`.
    func bind(_ endpoint: String) throws(TransportError) {
        try ZeroMQSystem.bind(self.open, endpoint, on: self.label)
    }

    /// Undoes a bind.
    func unbind(_ endpoint: String) {
        ZeroMQSystem.unbind(self.open, endpoint)
    }

    /// The endpoint last bound, with the real port of a wildcard bind.
    func lastEndpoint() throws(TransportError) -> String {
        try ZeroMQSystem.lastEndpoint(self.open, on: self.label)
    }

    /// Undoes a connect, dropping the connection and what is queued on it.
    func disconnect(_ endpoint: String) {
        ZeroMQSystem.disconnect(self.open, endpoint)
    }

    /// Connects to `endpoint` (libzmq connects, and reconnects, in the background).
    func connect(_ endpoint: String) throws(TransportError) {
        try ZeroMQSystem.connect(self.open, endpoint, on: self.label)
    }

    /// Sends one frame; `false` when it would block.
    func send(_ bytes: [UInt8], more: Bool, wait: Bool = false) throws(TransportError) -> Bool {
        let handle = self.open
        let label = self.label
        let result: Result<Bool, TransportError> = bytes.withUnsafeBytes { buffer in
            do throws(TransportError) {
                return .success(try ZeroMQSystem.send(handle, buffer, more: more, wait: wait, on: label))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Sends a frame received into `frame` on, without copying; `false` when it would block.
    func send(_ frame: Frame, more: Bool, wait: Bool = false) throws(TransportError) -> Bool {
        try ZeroMQSystem.send(self.open, message: frame.message, more: more, wait: wait, on: self.label)
    }

    /// Receives one frame into `frame`; `false` when nothing is ready (or ZMQ_RCVTIMEO expired).
    func receive(into frame: Frame, wait: Bool = false) throws(TransportError) -> Bool {
        try ZeroMQSystem.receive(self.open, into: frame.message, wait: wait, on: self.label)
    }

    /// A poll entry for this socket.
    func pollItem(_ events: Int16) -> ZeroMQSystem.PollItem {
        ZeroMQSystem.pollItem(socket: self.open, events: events)
    }

    /// Closes the socket; later calls do nothing.
    func close() {
        guard let handle = self.handle else { return }
        self.handle = nil
        ZeroMQSystem.closeSocket(handle)
    }

    deinit { self.close() }
}

// Used by one thread at a time: configured by its maker, then handed once to the I/O thread that
// alone uses and closes it (thread start is a full memory barrier, as libzmq requires to migrate).
extension ZeroMQSocket: @unchecked Sendable {}

/// A reusable libzmq message frame (`zmq_msg_t`), for zero-copy receive and forward.
final class Frame {
    let message: UnsafeMutablePointer<zmq_msg_t>

    init() { self.message = ZeroMQSystem.makeMessage() }

    /// The received bytes (valid until the next receive into this frame).
    var bytes: UnsafeRawBufferPointer { ZeroMQSystem.bytes(of: self.message) }

    /// The received bytes, copied.
    var array: [UInt8] { Array(self.bytes) }

    /// The frame's size in bytes.
    var count: Int { self.bytes.count }

    /// Whether more frames of the same message follow.
    var hasMore: Bool { ZeroMQSystem.hasMore(self.message) }

    /// The `User-Id` the ZAP handler gave the connection this frame came from, if any.
    var userID: String? { ZeroMQSystem.property("User-Id", of: self.message) }

    deinit { ZeroMQSystem.freeMessage(self.message) }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
