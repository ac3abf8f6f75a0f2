public import Logging
public import MeshCore
import Synchronization

/// The ``MeshTransport`` of a real mesh: a PUB connected to the forwarder's XSUB endpoint and a
/// SUB connected to its XPUB endpoint, both owned by one I/O thread of this transport.
///
/// The I/O thread is the only user of the sockets. Callers on any thread or task hand it work
/// through a `Mutex`-guarded command queue (messages, subscribe, unsubscribe) and an eventfd in
/// the same `zmq_poll` set; it pushes inbound messages to ``inbound`` in batches of up to
/// ``Options/batchSize``, and stops polling the SUB while ``inbound`` holds
/// ``Options/inboundLimit`` messages or more, so that libzmq's high-water marks, not this
/// process's memory, absorb a slow consumer.
///
/// A process that joins a mesh on another process's forwarder owns its context:
///
/// ```swift
/// let transport = try ZeroMQTransport(connectingTo: MeshEndpoint("ipc:///tmp/mesh/x"))
/// try transport.subscribe(.agent(id))
/// try transport.send([WireMessage(hello)])
/// while let batch = await transport.inbound.next() { … }
/// await transport.shutdown()   // flushes what was sent, closes, terminates the context
/// ```
///
/// A whole mesh in one process (`meshwork run`) shares the forwarder's context, which `inproc://`
/// requires; see ``ZeroMQContext``.
public final class ZeroMQTransport: MeshTransport {
    /// Socket options and limits; the defaults are the ones docs/WIRE.md explains.
    public struct Options: Sendable {
        /// A name for logs and the I/O thread (`top -H` shows `zmq-` plus its first 11 bytes).
        public var name: String
        /// ZMQ_SNDHWM of the PUB and ZMQ_RCVHWM of the SUB, in messages.
        public var highWaterMark: Int
        /// The largest payload sent (larger throws) or accepted (larger is dropped and counted in
        /// ``Statistics/refused``). Checked by the I/O thread after receipt; the sockets' own
        /// ZMQ_MAXMSGSIZE is the mesh-wide ``Envelope/maxEncodedSize`` (see docs/WIRE.md).
        public var maximumMessageSize: Int
        /// The I/O thread stops reading the SUB while ``MeshTransport/inbound`` holds this many
        /// messages or more.
        public var inboundLimit: Int
        /// The most messages pushed to ``MeshTransport/inbound`` at once.
        public var batchSize: Int
        /// How long ``ZeroMQTransport/shutdown()`` may spend flushing what was sent before it.
        public var linger: Duration
        /// ZMQ_HEARTBEAT_IVL: how often a ZMTP PING goes out on a quiet connection.
        public var heartbeatInterval: Duration
        /// ZMQ_HEARTBEAT_TIMEOUT and ZMQ_HEARTBEAT_TTL: a connection silent this long is dropped
        /// and reconnected.
        public var heartbeatTimeout: Duration
        /// ZMQ_RECONNECT_IVL: the first wait before reconnecting.
        public var reconnectInterval: Duration
        /// ZMQ_RECONNECT_IVL_MAX: the longest wait between reconnection attempts.
        public var reconnectIntervalMax: Duration
        /// This participant's CURVE keys and the forwarder's public key; required for `tcp://`
        /// (fail closed: docs/WIRE.md, "Security").
        public var security: TransportSecurity?
        /// Whether runs of queued messages to one topic go as one ZeroMQ message (a batch,
        /// docs/WIRE.md "Frames"). `false` sends one envelope per ZeroMQ message, for receivers
        /// that cannot split batches and to measure what batching buys (`meshwork bench
        /// --relay-unbatched`). Receiving always splits batches.
        public var batching: Bool

        /// Makes options; every default is the documented one.
        public init(
            name: String = "transport",
            highWaterMark: Int = 100_000,
            maximumMessageSize: Int = Envelope.maxEncodedSize,
            inboundLimit: Int = 16_384,
            batchSize: Int = 512,
            linger: Duration = .seconds(2),
            heartbeatInterval: Duration = .milliseconds(500),
            heartbeatTimeout: Duration = .milliseconds(1500),
            reconnectInterval: Duration = .milliseconds(100),
            reconnectIntervalMax: Duration = .seconds(1),
            security: TransportSecurity? = nil,
            batching: Bool = true
        ) {
            precondition(highWaterMark > 0 && inboundLimit > 0 && batchSize > 0, "limits must be positive")
            self.name = name
            self.highWaterMark = highWaterMark
            self.maximumMessageSize = maximumMessageSize
            self.inboundLimit = inboundLimit
            self.batchSize = batchSize
            self.linger = linger
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatTimeout = heartbeatTimeout
            self.reconnectInterval = reconnectInterval
            self.reconnectIntervalMax = reconnectIntervalMax
            self.security = security
            self.batching = batching
        }
    }

    /// Counters since the transport started.
    public struct Statistics: Hashable, Sendable {
        /// Messages handed to libzmq.
        public var sent: Int
        /// Messages pushed to ``MeshTransport/inbound``.
        public var received: Int
        /// Inbound messages dropped as malformed (not two frames, a bad topic) or oversized.
        public var refused: Int
        /// Messages still queued when ``ZeroMQTransport/shutdown()``'s linger ran out.
        public var unsent: Int
    }

    /// Inbound messages, in batches; single consumer.
    public let inbound: InboundQueue
    /// The mesh this transport is connected to.
    public let endpoint: MeshEndpoint
    /// The options in force.
    public let options: Options

    private let core: TransportCore

    /// Connects to the mesh at `endpoint` with a context of its own, which ``shutdown()``
    /// terminates: the usual choice for a process that joins a mesh over `ipc://` or `tcp://`.
    ///
    /// Throws `.endpoint` for an address that cannot be connected to (`inproc://` needs the
    /// forwarder's context: use ``init(connectingTo:context:options:logger:)``).
    public convenience init(
        connectingTo endpoint: MeshEndpoint,
        options: Options = Options(),
        logger: Logger = Logger(label: "meshwork.zeromq")
    ) throws(TransportError) {
        if endpoint.kind == .inproc {
            throw TransportError(
                .endpoint,
                "cannot connect to '\(endpoint)' with a context of its own: inproc:// needs the forwarder's context"
            )
        }
        try self.init(endpoint, ZeroMQContext(), ownsContext: true, options, logger)
    }

    /// Connects to the mesh at `endpoint` in a shared `context`, which the caller terminates
    /// after every transport in it has shut down (`meshwork run`: the whole mesh over `inproc://`).
    public convenience init(
        connectingTo endpoint: MeshEndpoint,
        context: ZeroMQContext,
        options: Options = Options(),
        logger: Logger = Logger(label: "meshwork.zeromq")
    ) throws(TransportError) {
        try self.init(endpoint, context, ownsContext: false, options, logger)
    }

    private init(
        _ endpoint: MeshEndpoint,
        _ context: ZeroMQContext,
        ownsContext: Bool,
        _ options: Options,
        _ logger: Logger
    ) throws(TransportError) {
        try EndpointAddress(kind: endpoint.kind, location: endpoint.location, port: endpoint.port).checkConnectable()
        if endpoint.kind == .tcp && options.security == nil {
            throw TransportError(
                .security, "refusing to connect to '\(endpoint)' without CURVE keys: tcp is never plaintext (fail closed)")
        }
        var tagged = logger
        tagged[metadataKey: "mesh.transport"] = "\(options.name)"
        let logger = tagged
        self.endpoint = endpoint
        self.options = options
        self.inbound = InboundQueue()

        let publisher = try ZeroMQSocket(.pub, in: context, label: "of \(options.name)")
        let subscriber = try ZeroMQSocket(.sub, in: context, label: "of \(options.name)")
        do {
            try Self.configure(publisher, subscriber, endpoint, options)
            try publisher.connect(endpoint.xsubEndpoint)
            try subscriber.connect(endpoint.xpubEndpoint)
        } catch {
            publisher.close()
            subscriber.close()
            throw error
        }

        let core = try TransportCore(inbound: self.inbound)
        self.core = core
        let loopContext: ZeroMQContext? = ownsContext ? context : nil
        do {
            try IOThread.start(name: "zmq-\(options.name)") {
                let loop = TransportLoop(
                    core: core, publisher: publisher, subscriber: subscriber,
                    ownedContext: loopContext, options: options, logger: logger)
                loop.run()
            }
        } catch {
            publisher.close()
            subscriber.close()
            throw error
        }
    }

    private static func configure(
        _ publisher: ZeroMQSocket,
        _ subscriber: ZeroMQSocket,
        _ endpoint: MeshEndpoint,
        _ options: Options
    ) throws(TransportError) {
        let hwm = Int32(clamping: options.highWaterMark)
        for socket in [publisher, subscriber] {
            try socket.set(.heartbeatInterval, options.heartbeatInterval)
            try socket.set(.heartbeatTimeout, options.heartbeatTimeout)
            try socket.set(.heartbeatTTL, options.heartbeatTimeout)
            try socket.set(.reconnectInterval, options.reconnectInterval)
            try socket.set(.reconnectIntervalMax, options.reconnectIntervalMax)
            // The mesh-wide limit, as at the forwarder's XSUB, so it never fires behind a Meshwork
            // forwarder: libzmq ends a connection that breaks it *for good* (no reconnect, measured
            // here). A smaller per-transport limit is checked after receipt, dropping one message.
            try socket.setMaximumMessageSize(max(options.maximumMessageSize, Envelope.maxEncodedSize))
            if endpoint.isIPv6 { try socket.set(.ipv6, Int32(1)) }
            if let security = options.security {
                try socket.set(.curveServerKey, security.serverKey)
                try socket.set(.curvePublicKey, security.keyPair.publicKey)
                try socket.set(.curveSecretKey, security.keyPair.secretKey)
            }
        }
        try publisher.set(.sendHighWaterMark, hwm)
        // A full pipe becomes EAGAIN (the message stays queued here) instead of a silent drop.
        try publisher.set(.xpubNoDrop, Int32(1))
        try publisher.set(.linger, options.linger)
        try subscriber.set(.receiveHighWaterMark, hwm)
        // Nothing to flush on a SUB; closing it must not wait.
        try subscriber.set(.linger, Int32(0))
    }

    /// Starts receiving messages whose topic starts with `topic`.
    ///
    /// Subscriptions are counted: subscribing twice needs two ``unsubscribe(_:)`` calls.
    /// Throws `.closed` after ``shutdown()``.
    public func subscribe(_ topic: Topic) throws(TransportError) {
        try self.core.enqueue { state in
            state.subscriptions[topic, default: 0] += 1
            if state.subscriptions[topic] == 1 { state.commands.append(.subscribe(topic)) }
        }
    }

    /// Stops receiving messages of `topic`; a topic not subscribed is ignored.
    /// Throws `.closed` after ``shutdown()``.
    public func unsubscribe(_ topic: Topic) throws(TransportError) {
        try self.core.enqueue { state in
            guard let count = state.subscriptions[topic] else { return }
            if count > 1 {
                state.subscriptions[topic] = count - 1
            } else {
                state.subscriptions[topic] = nil
                state.commands.append(.unsubscribe(topic))
            }
        }
    }

    /// Queues messages for the I/O thread, in order; never blocks.
    ///
    /// Throws `.messageTooLarge` (sending none of them) when a payload is over
    /// ``Options/maximumMessageSize``, and `.closed` after ``shutdown()``.
    public func send(_ messages: [WireMessage]) throws(TransportError) {
        let limit = self.options.maximumMessageSize
        for message in messages {
            // A payload starting with the batch marker travels as a batch of one: 5 bytes more.
            let allowed = PayloadBatch.mustWrap(message.payload) ? limit - 1 - PayloadBatch.partPrefix : limit
            guard message.payload.count > allowed else { continue }
            throw TransportError(
                .messageTooLarge, "message to \(message.topic) of \(message.payload.count) bytes, at most \(allowed) allowed")
        }
        try self.core.enqueue { state in
            if !messages.isEmpty { state.commands.append(.send(messages)) }
        }
    }

    /// Re-keys a secured transport (key rotation, docs/MULTI-HOST.md): the I/O thread drops both
    /// connections and connects again with `security`, so the next CURVE handshakes (and the
    /// forwarder's ZAP check) use the new key pair and server key. Subscriptions are sent again on
    /// the new connection; what libzmq still held for the old one is lost (the reliable layer
    /// resends it). Throws `.security` when the transport was made without keys, `.closed` after
    /// ``shutdown()``.
    public func rekey(_ security: TransportSecurity) throws(TransportError) {
        guard self.options.security != nil else {
            throw TransportError(.security, "cannot re-key a transport that was made without CURVE keys")
        }
        try self.core.enqueue { state in state.commands.append(.rekey(security, self.endpoint)) }
    }

    /// Flushes what was sent before (within ``Options/linger``), closes the sockets, terminates
    /// the context when the transport owns it, and finishes ``inbound``. Idempotent; every caller
    /// returns once the I/O thread has finished.
    public func shutdown() async {
        self.core.requestStop()
        await self.core.finished.wait()
    }

    /// Counters since the transport started.
    public var statistics: Statistics {
        Statistics(
            sent: self.core.sent.load(ordering: .relaxed),
            received: self.core.received.load(ordering: .relaxed),
            refused: self.core.refused.load(ordering: .relaxed),
            unsent: self.core.unsent.load(ordering: .relaxed)
        )
    }

    deinit {
        // The I/O thread holds the core, not the transport: ask it to wind down on its own.
        self.core.requestStop()
    }
}

/// What callers ask of the I/O thread.
enum TransportCommand: Sendable {
    case send([WireMessage])
    case subscribe(Topic)
    case unsubscribe(Topic)
    case rekey(TransportSecurity, MeshEndpoint)
}

/// The state shared between a transport's callers and its I/O thread.
final class TransportCore: Sendable {
    struct Shared {
        var commands: [TransportCommand] = []
        /// The eventfd was written and the I/O thread has not taken the commands since.
        var wakePending = false
        var closed = false
        var subscriptions: [Topic: Int] = [:]
    }

    let shared = Mutex(Shared())
    let stopRequested = Atomic<Bool>(false)
    let wakeFD: Int32
    let inbound: InboundQueue
    let finished = Completion()
    let sent = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    let unsent = Atomic<Int>(0)

    init(inbound: InboundQueue) throws(TransportError) {
        self.inbound = inbound
        self.wakeFD = try ZeroMQSystem.makeEventFD()
    }

    /// Runs `body` on the shared state unless closed, and wakes the I/O thread if it queued work.
    func enqueue(_ body: (inout Shared) -> Void) throws(TransportError) {
        let outcome = self.shared.withLock { state -> (closed: Bool, wake: Bool) in
            guard !state.closed else { return (true, false) }
            body(&state)
            guard !state.commands.isEmpty, !state.wakePending else { return (false, false) }
            state.wakePending = true
            return (false, true)
        }
        if outcome.closed { throw TransportError(.closed, "the transport is shut down") }
        if outcome.wake { ZeroMQSystem.signal(self.wakeFD) }
    }

    /// Refuses further work and tells the I/O thread to drain and stop.
    func requestStop() {
        self.shared.withLock { $0.closed = true }
        self.stopRequested.store(true, ordering: .releasing)
        ZeroMQSystem.signal(self.wakeFD)
    }

    deinit { ZeroMQSystem.closeFD(self.wakeFD) }
}
