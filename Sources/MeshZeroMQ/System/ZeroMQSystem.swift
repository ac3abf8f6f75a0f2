internal import CZeroMQ
import MeshCore

#if canImport(Glibc)
import Glibc
#endif

/// Every raw libzmq (and eventfd) call of the module, in one place, as swift-nio's `System.swift`
/// does for POSIX: `EINTR` is retried, `EAGAIN` is reported as "would block" (a `false` or `nil`
/// result, never an error), `zmq_errno()` is read right after the failing call, and failures
/// become a ``TransportError`` keeping the native code and `zmq_strerror` text.
///
/// Nothing outside this file calls a `zmq_*` function; the socket and context types call these.
enum ZeroMQSystem {
    /// A socket handle; only ``ZeroMQSocket`` and ``ZeroMQContext`` keep one.
    typealias Handle = UnsafeMutableRawPointer

    /// The socket types the module uses.
    enum SocketType: Int32 {
        case pub = 1  // ZMQ_PUB
        case sub = 2  // ZMQ_SUB
        case rep = 4  // ZMQ_REP
        case pull = 7  // ZMQ_PULL
        case push = 8  // ZMQ_PUSH
        case xpub = 9  // ZMQ_XPUB
        case xsub = 10  // ZMQ_XSUB

        var name: String {
            switch self {
            case .pub: "PUB"
            case .sub: "SUB"
            case .rep: "REP"
            case .pull: "PULL"
            case .push: "PUSH"
            case .xpub: "XPUB"
            case .xsub: "XSUB"
            }
        }
    }

    /// The integer socket options the module sets (their C names, so the docs can be grepped).
    enum IntOption: Int32 {
        case linger = 17  // ZMQ_LINGER
        case reconnectInterval = 18  // ZMQ_RECONNECT_IVL
        case reconnectIntervalMax = 21  // ZMQ_RECONNECT_IVL_MAX
        case sendHighWaterMark = 23  // ZMQ_SNDHWM
        case receiveHighWaterMark = 24  // ZMQ_RCVHWM
        case receiveTimeout = 27  // ZMQ_RCVTIMEO
        case sendTimeout = 28  // ZMQ_SNDTIMEO
        case ipv6 = 42  // ZMQ_IPV6
        case curveServer = 47  // ZMQ_CURVE_SERVER
        case xpubNoDrop = 69  // ZMQ_XPUB_NODROP
        case xpubManual = 71  // ZMQ_XPUB_MANUAL
        case heartbeatInterval = 75  // ZMQ_HEARTBEAT_IVL
        case heartbeatTTL = 76  // ZMQ_HEARTBEAT_TTL
        case heartbeatTimeout = 77  // ZMQ_HEARTBEAT_TIMEOUT

        var name: String {
            switch self {
            case .linger: "ZMQ_LINGER"
            case .reconnectInterval: "ZMQ_RECONNECT_IVL"
            case .reconnectIntervalMax: "ZMQ_RECONNECT_IVL_MAX"
            case .sendHighWaterMark: "ZMQ_SNDHWM"
            case .receiveHighWaterMark: "ZMQ_RCVHWM"
            case .receiveTimeout: "ZMQ_RCVTIMEO"
            case .sendTimeout: "ZMQ_SNDTIMEO"
            case .ipv6: "ZMQ_IPV6"
            case .curveServer: "ZMQ_CURVE_SERVER"
            case .xpubNoDrop: "ZMQ_XPUB_NODROP"
            case .xpubManual: "ZMQ_XPUB_MANUAL"
            case .heartbeatInterval: "ZMQ_HEARTBEAT_IVL"
            case .heartbeatTTL: "ZMQ_HEARTBEAT_TTL"
            case .heartbeatTimeout: "ZMQ_HEARTBEAT_TIMEOUT"
            }
        }
    }

    /// The byte-string socket options the module sets.
    enum BytesOption: Int32 {
        case subscribe = 6  // ZMQ_SUBSCRIBE
        case unsubscribe = 7  // ZMQ_UNSUBSCRIBE
        case curvePublicKey = 48  // ZMQ_CURVE_PUBLICKEY
        case curveSecretKey = 49  // ZMQ_CURVE_SECRETKEY
        case curveServerKey = 50  // ZMQ_CURVE_SERVERKEY
        case zapDomain = 55  // ZMQ_ZAP_DOMAIN

        var name: String {
            switch self {
            case .subscribe: "ZMQ_SUBSCRIBE"
            case .unsubscribe: "ZMQ_UNSUBSCRIBE"
            case .curvePublicKey: "ZMQ_CURVE_PUBLICKEY"
            case .curveSecretKey: "ZMQ_CURVE_SECRETKEY"
            case .curveServerKey: "ZMQ_CURVE_SERVERKEY"
            case .zapDomain: "ZMQ_ZAP_DOMAIN"
            }
        }
    }

    /// `zmq_poll` event bits.
    static let pollIn: Int16 = 1  // ZMQ_POLLIN
    static let pollOut: Int16 = 2  // ZMQ_POLLOUT

    /// The libzmq error code of a terminated context (`ETERM`).
    static let contextTerminated = Int32(ETERM)

    // MARK: - Errors

    /// Builds the error of a call that just failed, reading `zmq_errno()` first.
    static func lastError(_ code: TransportError.Code, _ what: @autoclosure () -> String) -> TransportError {
        let native = zmq_errno()
        return self.error(code, errno: native, what())
    }

    /// Builds an error for a native code already read.
    static func error(_ code: TransportError.Code, errno native: Int32, _ what: String) -> TransportError {
        let text = String(cString: zmq_strerror(native))
        // A terminated context means someone closed the mesh under us: report it as closed.
        let effective: TransportError.Code = native == ETERM ? .closed : code
        return TransportError(effective, errno: native, "\(what): \(text)")
    }

    // MARK: - Contexts

    /// Makes a context with `ioThreads` background I/O threads.
    static func makeContext(ioThreads: Int) throws(TransportError) -> Handle {
        guard let context = zmq_ctx_new() else { throw self.lastError(.system, "zmq_ctx_new") }
        if zmq_ctx_set(context, ZMQ_IO_THREADS, Int32(ioThreads)) != 0 {
            let error = self.lastError(.system, "zmq_ctx_set(ZMQ_IO_THREADS, \(ioThreads))")
            _ = zmq_ctx_term(context)
            throw error
        }
        return context
    }

    /// Terminates a context: blocks until every socket is closed and lingering messages are sent.
    static func terminateContext(_ context: Handle) {
        while zmq_ctx_term(context) != 0 {
            // EINTR is the only error left once the handle is valid; retry it.
            guard zmq_errno() == EINTR else { return }
        }
    }

    // MARK: - Sockets

    /// Makes a socket of `type` in `context`.
    static func makeSocket(_ context: Handle, _ type: SocketType) throws(TransportError) -> Handle {
        guard let socket = zmq_socket(context, type.rawValue) else {
            throw self.lastError(.system, "zmq_socket(\(type.name))")
        }
        return socket
    }

    /// Closes a socket (pending messages linger as its ZMQ_LINGER says, in the context's threads).
    static func closeSocket(_ socket: Handle) {
        _ = zmq_close(socket)
    }

    /// Sets an integer option.
    static func setOption(_ socket: Handle, _ option: IntOption, _ value: Int32, on what: String) throws(TransportError) {
        var value = value
        if zmq_setsockopt(socket, option.rawValue, &value, MemoryLayout<Int32>.size) != 0 {
            throw self.lastError(.system, "zmq_setsockopt(\(option.name), \(value)) on \(what)")
        }
    }

    /// Sets ZMQ_MAXMSGSIZE (an `int64_t` option): larger inbound frames are dropped and their
    /// connection closed by libzmq.
    static func setMaximumMessageSize(_ socket: Handle, _ bytes: Int, on what: String) throws(TransportError) {
        var value = Int64(bytes)
        if zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) != 0 {
            throw self.lastError(.system, "zmq_setsockopt(ZMQ_MAXMSGSIZE, \(bytes)) on \(what)")
        }
    }

    /// Sets a byte-string option (subscriptions).
    static func setOption(_ socket: Handle, _ option: BytesOption, _ bytes: [UInt8], on what: String) throws(TransportError) {
        let rc = bytes.withUnsafeBytes { buffer in
            zmq_setsockopt(socket, option.rawValue, buffer.baseAddress, buffer.count)
        }
        if rc != 0 {
            throw self.lastError(.system, "zmq_setsockopt(\(option.name)) on \(what)")
        }
    }

    /// The endpoint a socket last bound (ZMQ_LAST_ENDPOINT), with the real port of a wildcard bind.
    static func lastEndpoint(_ socket: Handle, on what: String) throws(TransportError) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        let rc = buffer.withUnsafeMutableBytes { raw in
            zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, raw.baseAddress, &size)
        }
        if rc != 0 { throw self.lastError(.system, "zmq_getsockopt(ZMQ_LAST_ENDPOINT) on \(what)") }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Binds a socket; failures are `.endpoint` errors naming the endpoint (the native code says
    /// why, e.g. `EADDRINUSE`).
    static func bind(_ socket: Handle, _ endpoint: String, on what: String) throws(TransportError) {
        if zmq_bind(socket, endpoint) != 0 {
            throw self.lastError(.endpoint, "cannot bind \(what) to \(endpoint)")
        }
    }

    /// Undoes a bind (used when the second port of a pair is taken).
    static func unbind(_ socket: Handle, _ endpoint: String) {
        _ = zmq_unbind(socket, endpoint)
    }

    /// Undoes a connect: the connection and its queued messages are dropped (key rotation).
    static func disconnect(_ socket: Handle, _ endpoint: String) {
        _ = zmq_disconnect(socket, endpoint)
    }

    /// Connects a socket (asynchronous in libzmq: this fails only on a malformed endpoint).
    static func connect(_ socket: Handle, _ endpoint: String, on what: String) throws(TransportError) {
        if zmq_connect(socket, endpoint) != 0 {
            throw self.lastError(.endpoint, "cannot connect \(what) to \(endpoint)")
        }
    }

    // MARK: - Sending and receiving

    /// Sends one frame, copying `bytes`. Returns `false` when the socket would block
    /// (`EAGAIN`: a full pipe under ZMQ_XPUB_NODROP, or a PUSH with no room); a blocking send
    /// (`wait: true`) waits instead, up to the socket's ZMQ_SNDTIMEO.
    static func send(
        _ socket: Handle,
        _ bytes: UnsafeRawBufferPointer,
        more: Bool,
        wait: Bool = false,
        on what: String
    ) throws(TransportError) -> Bool {
        let flags = (more ? ZMQ_SNDMORE : 0) | (wait ? 0 : ZMQ_DONTWAIT)
        while true {
            if zmq_send(socket, bytes.baseAddress, bytes.count, flags) >= 0 { return true }
            let native = zmq_errno()
            if native == EINTR { continue }
            if native == EAGAIN { return false }
            throw self.error(.system, errno: native, "zmq_send on \(what)")
        }
    }

    /// Receives one frame into `message` (which must have been initialised by ``makeMessage()``).
    /// Returns `false` when nothing is ready (`EAGAIN`), or, with `wait`, when ZMQ_RCVTIMEO expired.
    static func receive(
        _ socket: Handle,
        into message: UnsafeMutablePointer<zmq_msg_t>,
        wait: Bool = false,
        on what: String
    ) throws(TransportError) -> Bool {
        let flags = wait ? 0 : ZMQ_DONTWAIT
        while true {
            if zmq_msg_recv(message, socket, flags) >= 0 { return true }
            let native = zmq_errno()
            if native == EINTR { continue }
            if native == EAGAIN { return false }
            throw self.error(.system, errno: native, "zmq_msg_recv on \(what)")
        }
    }

    /// Sends a received frame on without copying it (the forwarder's and relay's hot path);
    /// `message` is left empty and reusable. Returns `false` on `EAGAIN`.
    static func send(
        _ socket: Handle,
        message: UnsafeMutablePointer<zmq_msg_t>,
        more: Bool,
        wait: Bool = false,
        on what: String
    ) throws(TransportError) -> Bool {
        let flags = (more ? ZMQ_SNDMORE : 0) | (wait ? 0 : ZMQ_DONTWAIT)
        while true {
            if zmq_msg_send(message, socket, flags) >= 0 { return true }
            let native = zmq_errno()
            if native == EINTR { continue }
            if native == EAGAIN { return false }
            throw self.error(.system, errno: native, "zmq_msg_send on \(what)")
        }
    }

    // MARK: - Message frames

    /// Allocates and initialises an empty frame (heap-allocated, so it is pointer-aligned as
    /// zmq.h asks); release it with ``freeMessage(_:)``.
    static func makeMessage() -> UnsafeMutablePointer<zmq_msg_t> {
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        // zmq_msg_init cannot fail.
        _ = zmq_msg_init(message)
        return message
    }

    /// Closes and frees a frame from ``makeMessage()``.
    static func freeMessage(_ message: UnsafeMutablePointer<zmq_msg_t>) {
        _ = zmq_msg_close(message)
        message.deallocate()
    }

    /// The bytes of a received frame (valid until the next receive into it).
    static func bytes(of message: UnsafeMutablePointer<zmq_msg_t>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message))
    }

    /// Whether more frames of the same message follow the received one.
    static func hasMore(_ message: UnsafeMutablePointer<zmq_msg_t>) -> Bool {
        zmq_msg_more(message) != 0
    }

    /// A property of a received frame's connection (`zmq_msg_gets`), such as the `User-Id` a
    /// ZAP handler gave it; `nil` when the connection has none.
    static func property(_ name: String, of message: UnsafeMutablePointer<zmq_msg_t>) -> String? {
        guard let value = zmq_msg_gets(message, name) else { return nil }
        return String(cString: value)
    }

    // MARK: - CURVE keys

    /// A new CURVE key pair in Z85 text (40 characters each), from libsodium's random source.
    static func curveKeyPair() throws(TransportError) -> (publicKey: String, secretKey: String) {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        if zmq_curve_keypair(&publicKey, &secretKey) != 0 {
            throw self.lastError(.system, "zmq_curve_keypair (is libzmq built with CURVE?)")
        }
        return (self.text(publicKey), self.text(secretKey))
    }

    /// The Z85 public key of a Z85 secret key; `nil` when `secretKey` is not a Z85 key.
    static func curvePublicKey(ofSecret secretKey: String) -> String? {
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { return nil }
        return self.text(publicKey)
    }

    /// 32 key bytes (as a ZAP request carries them) in Z85 text.
    static func z85(_ key: UnsafeRawBufferPointer) -> String? {
        guard key.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, key.baseAddress?.assumingMemoryBound(to: UInt8.self), 32) != nil else { return nil }
        return self.text(text)
    }

    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Polling

    /// One entry of a poll set.
    typealias PollItem = zmq_pollitem_t

    /// A poll entry for a socket.
    static func pollItem(socket: Handle, events: Int16) -> PollItem {
        zmq_pollitem_t(socket: socket, fd: 0, events: events, revents: 0)
    }

    /// A poll entry for a plain file descriptor (the wake-up eventfd).
    static func pollItem(fd: Int32, events: Int16) -> PollItem {
        zmq_pollitem_t(socket: nil, fd: fd, events: events, revents: 0)
    }

    /// Whether `zmq_poll` reported one of `events` on `item`.
    static func fired(_ item: PollItem, _ events: Int16) -> Bool {
        item.revents & events != 0
    }

    /// Waits up to `timeoutMilliseconds` for an event. An interrupted wait returns as a timeout
    /// (the caller's loop polls again); a terminated context throws `.closed`.
    static func poll(_ items: inout [PollItem], count: Int, timeoutMilliseconds: Int) throws(TransportError) {
        let rc = items.withUnsafeMutableBufferPointer { buffer in
            zmq_poll(buffer.baseAddress, Int32(count), timeoutMilliseconds)
        }
        if rc < 0 {
            let native = zmq_errno()
            if native == EINTR { return }
            throw self.error(.system, errno: native, "zmq_poll")
        }
    }

    // MARK: - eventfd (the I/O thread's wake-up)

    /// Makes a non-blocking eventfd.
    static func makeEventFD() throws(TransportError) -> Int32 {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        if fd < 0 {
            let native = Glibc.errno
            throw TransportError(.system, errno: native, "eventfd: \(String(cString: strerror(native)))")
        }
        return fd
    }

    /// Wakes whoever polls `fd`.
    static func signal(_ fd: Int32) {
        var one: UInt64 = 1
        while write(fd, &one, MemoryLayout<UInt64>.size) < 0 {
            // EAGAIN means the counter is saturated: the poller is awake already.
            guard Glibc.errno == EINTR else { return }
        }
    }

    /// Resets `fd` after a wake-up.
    static func consume(_ fd: Int32) {
        var value: UInt64 = 0
        while read(fd, &value, MemoryLayout<UInt64>.size) < 0 {
            guard Glibc.errno == EINTR else { return }
        }
    }

    /// Removes a Unix socket file (libzmq 4.3 leaves a bound `ipc://` path behind on close).
    static func removeSocketFile(_ path: String) {
        _ = unlink(path)
    }

    /// Closes a file descriptor.
    static func closeFD(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
