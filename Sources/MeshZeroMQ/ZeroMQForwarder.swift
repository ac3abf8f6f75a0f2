public import Logging
public import MeshCore
import Synchronization

/// The coordinator's XSUB/XPUB proxy: every participant publishes into its XSUB and subscribes at
/// its XPUB, so a new host needs one address only.
///
/// Messages go XSUB → XPUB without a copy, a batch of envelopes (``PayloadBatch``) as one
/// message; subscription frames go XPUB → XSUB. The XSUB
/// subscribes to everything (a lone `0x01` frame) so publishers always send to the forwarder and
/// the filtering happens once, at the XPUB. The XPUB runs in ZMQ_XPUB_MANUAL mode: the forwarder
/// reads every subscription frame and applies it only when its topic is a valid ``Topic`` (at
/// most ``Topic/maxLength`` bytes, ending in `/`), so a peer cannot make it hold arbitrary prefixes.
///
/// The XPUB is **not** ZMQ_XPUB_NODROP: a subscriber that stops reading (say, SIGSTOPped) must
/// not stall the whole mesh, so once its pipe holds ``Options/highWaterMark`` messages the
/// forwarder drops further messages *for that subscriber only*; the reliable layer above
/// retransmits them. The high-water mark is high so that this happens only to a peer that has
/// really stopped, not to a merely slow one.
///
/// The forwarder runs on a device thread of its own (as `zmq_proxy` does): the one exception to
/// one I/O thread per process, in the coordinator's process only.
///
/// ```swift
/// let forwarder = try ZeroMQForwarder(binding: MeshEndpoint("tcp://0.0.0.0:0"))
/// print(forwarder.endpoint)      // the address agents connect to, with the real port
/// …
/// await forwarder.stop()
/// ```
public final class ZeroMQForwarder: Sendable {
    /// Socket options and limits of the two sockets.
    public struct Options: Sendable {
        /// ZMQ_RCVHWM of the XSUB and ZMQ_SNDHWM of the XPUB (per subscriber), in messages.
        public var highWaterMark: Int
        /// ZMQ_MAXMSGSIZE of the XSUB: a larger frame from a publisher closes its connection.
        public var maximumMessageSize: Int
        /// How long a stop may spend flushing what was already forwarded.
        public var linger: Duration
        /// ZMQ_HEARTBEAT_IVL on every accepted connection.
        public var heartbeatInterval: Duration
        /// ZMQ_HEARTBEAT_TIMEOUT and ZMQ_HEARTBEAT_TTL.
        public var heartbeatTimeout: Duration
        /// The most messages forwarded before the device thread looks at subscriptions again.
        public var batchSize: Int
        /// How many ephemeral port pairs to try when binding `tcp://HOST:0`.
        public var portAttempts: Int
        /// CURVE keys, the roster and the message gate; required to bind `tcp://` (fail closed).
        public var security: ForwarderSecurity?

        /// Makes options; every default is the documented one.
        public init(
            highWaterMark: Int = 100_000,
            maximumMessageSize: Int = Envelope.maxEncodedSize,
            linger: Duration = .seconds(2),
            heartbeatInterval: Duration = .milliseconds(500),
            heartbeatTimeout: Duration = .milliseconds(1500),
            batchSize: Int = 1024,
            portAttempts: Int = 32,
            security: ForwarderSecurity? = nil
        ) {
            self.highWaterMark = highWaterMark
            self.maximumMessageSize = maximumMessageSize
            self.linger = linger
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatTimeout = heartbeatTimeout
            self.batchSize = batchSize
            self.portAttempts = portAttempts
            self.security = security
        }
    }

    /// Counters since the forwarder started.
    public struct Statistics: Hashable, Sendable {
        /// Messages forwarded from publishers to the XPUB (each delivered to every matching
        /// subscriber); each envelope of a batch counts.
        public var forwarded: Int
        /// ZeroMQ messages forwarded that were batches of envelopes (``forwarded`` counts their parts).
        public var forwardedBatches: Int = 0
        /// Subscription and unsubscription frames applied.
        public var subscriptionChanges: Int
        /// Subscription frames refused (not a valid topic, longer than ``Topic/maxLength``, or,
        /// when secured, a topic the peer may not subscribe to).
        public var refusedSubscriptions: Int
        /// Secured only: connections the ZAP handler admitted (a roster key).
        public var admittedConnections: Int = 0
        /// Secured only: connections the ZAP handler refused (a key outside the roster).
        public var deniedConnections: Int = 0
        /// Secured only: messages dropped, by reason.
        public var refusedMessages: [SenderPolicy.Refusal: Int] = [:]
        /// Secured only: keys and rosters applied by ``ZeroMQForwarder/update(security:)``.
        public var securityUpdates: Int = 0
        /// Secured only: updates that revoked a key (or changed the server key) and so dropped
        /// every connection, each then authenticated again under the new roster.
        public var connectionResets: Int = 0
    }

    /// The address the forwarder really bound (a requested port 0 replaced by the one picked):
    /// give it to every participant.
    public let endpoint: MeshEndpoint

    let core: ForwarderCore
    /// Whether the sockets are CURVE servers with a ZAP handler (``update(security:)`` needs it).
    let secured: Bool

    /// Binds the forwarder at `endpoint` with a context of its own (a coordinator process whose
    /// agents run in other processes); ``stop()`` terminates it.
    public convenience init(
        binding endpoint: MeshEndpoint,
        options: Options = Options(),
        logger: Logger = Logger(label: "meshwork.zeromq")
    ) throws(TransportError) {
        if endpoint.kind == .inproc {
            throw TransportError(
                .endpoint, "cannot bind '\(endpoint)' with a context of its own: inproc:// needs a shared context")
        }
        try self.init(endpoint, ZeroMQContext(), ownsContext: true, options, logger)
    }

    /// Binds the forwarder at `endpoint` in a shared `context` (required for `inproc://`).
    ///
    /// Throws `.endpoint` naming the endpoint when it cannot be bound (in use, no such directory,
    /// a path too long), or after ``Options/portAttempts`` tries to find a free port pair.
    public convenience init(
        binding endpoint: MeshEndpoint,
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
        if endpoint.kind == .tcp && options.security == nil {
            throw TransportError(
                .security,
                "refusing to bind '\(endpoint)' without CURVE keys and a roster: anyone who reaches a tcp port could join (fail closed)"
            )
        }
        if let security = options.security, security.roster.isEmpty {
            throw TransportError(.security, "an empty roster admits nobody: refusing to bind '\(endpoint)'")
        }
        // The ZAP handler is bound before any tcp socket: libzmq admits any CURVE key while no handler answers.
        let zap = try options.security.map { _ throws(TransportError) in try ZeroMQSocket(.rep, in: context, label: "ZAP handler") }
        do throws(TransportError) {
            try zap?.set(.linger, Int32(0))
            try zap?.bind(ForwarderDevice.zapEndpoint)
        } catch {
            zap?.close()
            throw error
        }
        let xsub = try ZeroMQSocket(.xsub, in: context, label: "of the forwarder")
        let xpub = try ZeroMQSocket(.xpub, in: context, label: "of the forwarder")
        let core: ForwarderCore
        do throws(TransportError) {
            if let security = options.security {
                for socket in [xsub, xpub] {
                    try socket.set(.curveServer, Int32(1))
                    try socket.set(.curveSecretKey, security.keyPair.secretKey)
                    try socket.set(.zapDomain, ForwarderDevice.zapDomain)
                }
            }
            let hwm = Int32(clamping: options.highWaterMark)
            for socket in [xsub, xpub] {
                try socket.set(.heartbeatInterval, options.heartbeatInterval)
                try socket.set(.heartbeatTimeout, options.heartbeatTimeout)
                try socket.set(.heartbeatTTL, options.heartbeatTimeout)
                try socket.set(.linger, options.linger)
                if endpoint.isIPv6 { try socket.set(.ipv6, Int32(1)) }
            }
            try xsub.set(.receiveHighWaterMark, hwm)
            try xsub.setMaximumMessageSize(options.maximumMessageSize)
            try xpub.set(.sendHighWaterMark, hwm)
            // Bounds what one subscription frame can make libzmq hold; frames over a topic's length
            // but under this are dropped one by one below, larger ones close the peer's connection.
            try xpub.setMaximumMessageSize(ForwarderDevice.maximumSubscriptionFrame)
            try xpub.set(.xpubManual, Int32(1))
            self.endpoint = try Self.bind(xsub, xpub, endpoint, attempts: options.portAttempts)
            // Subscribe to everything upstream: publishers send all to us, the XPUB filters.
            guard try xsub.send([1], more: false) else {
                throw TransportError(.system, "the forwarder's XSUB refused its catch-all subscription")
            }
            core = try ForwarderCore()
        } catch {
            xsub.close()
            xpub.close()
            zap?.close()
            throw error
        }
        self.core = core
        self.secured = options.security != nil
        var tagged = logger
        tagged[metadataKey: "mesh.forwarder"] = "\(self.endpoint)"
        let logger = tagged
        let ownedContext = ownsContext ? context : nil
        let bound = self.endpoint
        let socketFiles =
            endpoint.kind == .ipc
            ? [self.endpoint.xsubEndpoint, self.endpoint.xpubEndpoint].map { String($0.dropFirst("ipc://".count)) } : []
        do {
            try IOThread.start(name: "zmq-forwarder") {
                let device = ForwarderDevice(
                    core: core, xsub: xsub, xpub: xpub, zap: zap, ownedContext: ownedContext, socketFiles: socketFiles,
                    endpoint: bound, options: options, logger: logger)
                device.run()
            }
        } catch {
            xsub.close()
            xpub.close()
            zap?.close()
            throw error
        }
    }

    /// Binds both sockets; for `tcp://HOST:0`, an ephemeral port P for the XSUB and P+1 for the
    /// XPUB, trying another P when P+1 is taken.
    private static func bind(
        _ xsub: ZeroMQSocket,
        _ xpub: ZeroMQSocket,
        _ endpoint: MeshEndpoint,
        attempts: Int
    ) throws(TransportError) -> MeshEndpoint {
        guard endpoint.isEphemeral else {
            try xsub.bind(endpoint.xsubEndpoint)
            try xpub.bind(endpoint.xpubEndpoint)
            return endpoint
        }
        var lastError: TransportError?
        for _ in 0..<max(1, attempts) {
            try xsub.bind(endpoint.xsubEndpoint)
            let bound = try xsub.lastEndpoint()
            guard let port = EndpointAddress.port(ofBound: bound), let colon = bound.lastIndex(of: ":") else {
                throw TransportError(.endpoint, "cannot read the port of '\(bound)' bound for '\(endpoint)'")
            }
            let hostPart = bound[bound.index(bound.startIndex, offsetBy: "tcp://".count)..<colon]
            let base = MeshEndpoint(EndpointAddress(kind: .tcp, location: String(hostPart), port: port))
            if port < 65535 {
                do {
                    try xpub.bind(base.xpubEndpoint)
                    return base
                } catch {
                    lastError = error
                }
            }
            xsub.unbind(bound)
        }
        throw TransportError(
            .endpoint, errno: lastError?.errno,
            "cannot bind a free port pair for '\(endpoint)' in \(attempts) tries: \(lastError?.reason ?? "ports exhausted")")
    }

    /// Counters since the forwarder started.
    public var statistics: Statistics {
        Statistics(
            forwarded: self.core.forwarded.load(ordering: .relaxed),
            forwardedBatches: self.core.forwardedBatches.load(ordering: .relaxed),
            subscriptionChanges: self.core.subscriptionChanges.load(ordering: .relaxed),
            refusedSubscriptions: self.core.refusedSubscriptions.load(ordering: .relaxed),
            admittedConnections: self.core.admitted.load(ordering: .relaxed),
            deniedConnections: self.core.denied.load(ordering: .relaxed),
            refusedMessages: Dictionary(
                uniqueKeysWithValues: SenderPolicy.Refusal.allCases.compactMap { reason in
                    let count = self.core.refusals(reason)
                    return count > 0 ? (reason, count) : nil
                }),
            securityUpdates: self.core.securityUpdates.load(ordering: .relaxed),
            connectionResets: self.core.connectionResets.load(ordering: .relaxed)
        )
    }

    /// Forwards what publishers already sent (what is readable now), stops the device thread,
    /// closes both sockets (flushing within ``Options/linger``), terminates the context when the
    /// forwarder owns it, and removes its `ipc://` socket files. Idempotent. Stop the forwarder after the transports it serves.
    public func stop() async {
        self.core.requestStop()
        await self.core.finished.wait()
    }

    deinit { self.core.requestStop() }
}

/// The state shared between a forwarder's owner and its device thread.
final class ForwarderCore: Sendable {
    let stopRequested = Atomic<Bool>(false)
    let wakeFD: Int32
    let finished = Completion()
    let forwarded = Atomic<Int>(0)
    let forwardedBatches = Atomic<Int>(0)
    let subscriptionChanges = Atomic<Int>(0)
    let refusedSubscriptions = Atomic<Int>(0)
    let admitted = Atomic<Int>(0)
    let denied = Atomic<Int>(0)
    let refusedMalformed = Atomic<Int>(0)
    let refusedSpoofed = Atomic<Int>(0)
    let refusedForbidden = Atomic<Int>(0)
    let refusedUnknown = Atomic<Int>(0)
    let securityUpdates = Atomic<Int>(0)
    let connectionResets = Atomic<Int>(0)
    /// Security updates for the device thread, each with the completion its caller awaits.
    let pendingSecurity = Mutex<[(ForwarderSecurity, Completion)]>([])
    /// Set after an update is queued, so the device loop checks one atomic, not the lock, per turn.
    let securityPending = Atomic<Bool>(false)

    /// Counts one refused message; returns the count of its reason so far.
    func countRefusal(_ reason: SenderPolicy.Refusal) -> Int {
        switch reason {
        case .malformed: self.refusedMalformed.add(1, ordering: .relaxed).newValue
        case .spoofedSender: self.refusedSpoofed.add(1, ordering: .relaxed).newValue
        case .forbiddenKind: self.refusedForbidden.add(1, ordering: .relaxed).newValue
        case .unknownPeer: self.refusedUnknown.add(1, ordering: .relaxed).newValue
        }
    }

    func refusals(_ reason: SenderPolicy.Refusal) -> Int {
        switch reason {
        case .malformed: self.refusedMalformed.load(ordering: .relaxed)
        case .spoofedSender: self.refusedSpoofed.load(ordering: .relaxed)
        case .forbiddenKind: self.refusedForbidden.load(ordering: .relaxed)
        case .unknownPeer: self.refusedUnknown.load(ordering: .relaxed)
        }
    }

    init() throws(TransportError) { self.wakeFD = try ZeroMQSystem.makeEventFD() }

    func requestStop() {
        self.stopRequested.store(true, ordering: .releasing)
        ZeroMQSystem.signal(self.wakeFD)
    }

    deinit { ZeroMQSystem.closeFD(self.wakeFD) }
}

/// The body of the forwarder's device thread.
final class ForwarderDevice {
    let core: ForwarderCore
    let xsub: ZeroMQSocket
    let xpub: ZeroMQSocket
    private let zap: ZeroMQSocket?
    private let ownedContext: ZeroMQContext?
    private let socketFiles: [String]
    /// The bound endpoint (real ports), bound again when a key is revoked.
    let endpoint: MeshEndpoint
    /// `security` changes with ``ZeroMQForwarder/update(security:)``.
    var options: ZeroMQForwarder.Options
    let logger: Logger
    private let frame = Frame()
    /// Secured: the payload frame, held while the topic frame waits for the gate's verdict.
    private let payloadFrame = Frame()

    /// The largest subscription frame libzmq accepts at the XPUB (ZMQ_MAXMSGSIZE).
    static let maximumSubscriptionFrame = 1024
    /// Where libzmq asks a context's ZAP handler (RFC 27).
    static let zapEndpoint = "inproc://zeromq.zap.01"
    /// The ZAP domain of the forwarder's sockets.
    static let zapDomain = "meshwork"
    /// Refusals of one reason logged at warning level before only every 1000th is.
    static let loggedRefusals = 20

    init(
        core: ForwarderCore,
        xsub: ZeroMQSocket,
        xpub: ZeroMQSocket,
        zap: ZeroMQSocket?,
        ownedContext: ZeroMQContext?,
        socketFiles: [String],
        endpoint: MeshEndpoint,
        options: ZeroMQForwarder.Options,
        logger: Logger
    ) {
        self.core = core
        self.xsub = xsub
        self.xpub = xpub
        self.zap = zap
        self.endpoint = endpoint
        self.ownedContext = ownedContext
        self.socketFiles = socketFiles
        self.options = options
        self.logger = logger
    }

    func run() {
        do {
            var items = [
                self.xsub.pollItem(ZeroMQSystem.pollIn),
                self.xpub.pollItem(ZeroMQSystem.pollIn),
                ZeroMQSystem.pollItem(fd: self.core.wakeFD, events: ZeroMQSystem.pollIn),
            ]
            if let zap = self.zap { items.append(zap.pollItem(ZeroMQSystem.pollIn)) }
            while !self.core.stopRequested.load(ordering: .acquiring) {
                if self.core.securityPending.load(ordering: .acquiring) { try self.applyPendingSecurity() }
                let authenticated = try self.answerZAP()
                let moved = try self.forwardMessages()
                let changed = try self.forwardSubscriptions()
                if moved || changed || authenticated { continue }
                try ZeroMQSystem.poll(&items, count: items.count, timeoutMilliseconds: 100)
                if ZeroMQSystem.fired(items[2], ZeroMQSystem.pollIn) { ZeroMQSystem.consume(self.core.wakeFD) }
            }
            // What publishers handed over before the stop still goes out.
            while try self.forwardMessages() {}
        } catch {
            self.logger.error("forwarder device thread stops: \(error)")
        }
        self.xsub.close()
        self.xpub.close()
        self.zap?.close()
        self.ownedContext?.terminateBlocking()
        for path in self.socketFiles { ZeroMQSystem.removeSocketFile(path) }
        self.core.finished.signal()
        // After `finished`: an update queued from now on sees it and does not wait.
        let pending = self.core.pendingSecurity.withLock { pending in
            defer { pending = [] }
            return pending
        }
        for (_, done) in pending { done.signal() }
    }

    /// Moves up to a batch of whole messages XSUB → XPUB; `true` when it moved any.
    private func forwardMessages() throws(TransportError) -> Bool {
        if let security = self.options.security { return try self.forwardCheckedMessages(security) }
        var count = 0
        var messages = 0
        var batches = 0
        while count < self.options.batchSize {
            guard try self.xsub.receive(into: self.frame) else { break }
            var more = self.frame.hasMore
            var carried = 1
            // A lossy XPUB never blocks: at a full pipe it drops for that subscriber only.
            _ = try self.xpub.send(self.frame, more: more)
            while more {
                guard try self.xsub.receive(into: self.frame) else { break }
                more = self.frame.hasMore
                // The last frame is the payload; a batch counts its envelopes (a walk of their
                // lengths, nothing copied).
                if !more {
                    carried = PayloadBatch.messageCount(self.frame.bytes)
                    if carried > 1 || self.frame.bytes.first == PayloadBatch.marker { batches += 1 }
                }
                _ = try self.xpub.send(self.frame, more: more)
            }
            count += 1
            messages += carried
        }
        if count > 0 {
            self.core.forwarded.add(messages, ordering: .relaxed)
            if batches > 0 { self.core.forwardedBatches.add(batches, ordering: .relaxed) }
        }
        return count > 0
    }

    /// Applies valid subscription frames from subscribers and passes them upstream.
    private func forwardSubscriptions() throws(TransportError) -> Bool {
        var any = false
        while true {
            guard try self.xpub.receive(into: self.frame) else { return any }
            any = true
            let bytes = self.frame.bytes
            guard bytes.count >= 1, bytes[0] <= 1, let topic = Topic(bytes: Array(bytes[1...])) else {
                self.core.refusedSubscriptions.add(1, ordering: .relaxed)
                self.logger.debug("refused a subscription frame of \(bytes.count) bytes")
                continue
            }
            // An unsubscription cannot open anything; libzmq also makes them, without a User-Id, for
            // the subscriptions of a connection that closed.
            if let security = self.options.security, bytes[0] == 1 {
                let peer = self.frame.userID.flatMap { security.roster[$0] }
                guard let peer, security.gate.permitsSubscription(to: topic, by: peer) else {
                    self.core.refusedSubscriptions.add(1, ordering: .relaxed)
                    self.logger.warning(
                        "refused a subscription",
                        metadata: ["mesh.key": "\(self.frame.userID ?? "unauthenticated")", "mesh.topic": "\(topic)"])
                    continue
                }
            }
            // Manual mode: this applies to the pipe the frame came from (the last one read).
            if bytes[0] == 1 {
                try self.xpub.subscribe(topic.bytes)
            } else {
                try self.xpub.unsubscribe(topic.bytes)
            }
            self.core.subscriptionChanges.add(1, ordering: .relaxed)
            _ = try self.xsub.send(self.frame, more: false)
        }
    }

    // MARK: - Secured

    /// Forwards up to a batch of messages whose sender, kind and peer pass `gate`; drops, counts
    /// and logs the others. `true` when it read any.
    private func forwardCheckedMessages(_ security: ForwarderSecurity) throws(TransportError) -> Bool {
        var count = 0
        var batches = 0
        var frames = 0
        var read = false
        while frames < self.options.batchSize {
            guard try self.xsub.receive(into: self.frame) else { break }
            read = true
            frames += 1
            // A Meshwork message is two frames: topic, envelope.
            guard self.frame.hasMore, try self.xsub.receive(into: self.payloadFrame) else {
                self.refuse(.malformed, peer: self.frame.userID, "a lone frame")
                continue
            }
            if self.payloadFrame.hasMore {
                while self.payloadFrame.hasMore { guard try self.xsub.receive(into: self.payloadFrame) else { break } }
                self.refuse(.malformed, peer: self.frame.userID, "more than two frames")
                continue
            }
            // The connection's User-Id is the CURVE key ZAP admitted; the key must still be in the
            // roster (a key revoked since is refused here until its connection is dropped).
            let key = self.payloadFrame.userID
            guard let key, let peer = security.roster[key] else {
                self.refuse(.unknownPeer, peer: key, "no roster identity on the connection")
                continue
            }
            let payload = self.payloadFrame.bytes
            let who = "\(peer.id) (\(key))"
            if payload.first == PayloadBatch.marker {
                switch self.checkBatch(payload, security.gate, peer, who) {
                case .forward(let parts):
                    _ = try self.xpub.send(self.frame, more: true)
                    _ = try self.xpub.send(self.payloadFrame, more: false)
                    count += parts
                case .forwardOnly(let kept, let parts):
                    _ = try self.xpub.send(self.frame, more: true)
                    _ = try self.xpub.send(kept, more: false)
                    count += parts
                case .drop:
                    continue
                }
                batches += 1
                continue
            }
            if let (reason, detail) = security.gate.check(payload, from: peer) {
                self.refuse(reason, peer: who, detail)
                continue
            }
            _ = try self.xpub.send(self.frame, more: true)
            _ = try self.xpub.send(self.payloadFrame, more: false)
            count += 1
        }
        if count > 0 { self.core.forwarded.add(count, ordering: .relaxed) }
        if batches > 0 { self.core.forwardedBatches.add(batches, ordering: .relaxed) }
        return read
    }

    /// What the gate made of a batch.
    private enum BatchVerdict {
        /// Every part passed: forward the frame (of this many parts) as it is.
        case forward(Int)
        /// Some parts were refused: forward a batch of the others (this many).
        case forwardOnly([UInt8], Int)
        /// Nothing passed, or the batch is malformed.
        case drop
    }

    /// Checks every envelope of a ``PayloadBatch`` as if it had come alone: each refused part is
    /// dropped, counted and logged by its reason, and the others go on. The common case, every
    /// part passing, forwards the frame as it is without a copy; only a batch with a refused part
    /// is rebuilt.
    private func checkBatch(
        _ frame: UnsafeRawBufferPointer, _ gate: any MessageGate, _ peer: ForwarderSecurity.Peer, _ userID: String?
    ) -> BatchVerdict {
        guard PayloadBatch.isWellFormed(frame) else {
            self.refuse(.malformed, peer: userID, "a malformed batch of \(frame.count) bytes")
            return .drop
        }
        var allPass = true
        var parts = 0
        _ = PayloadBatch.forEachPart(of: frame) { part in
            parts += 1
            if allPass, gate.check(part, from: peer) != nil { allPass = false }
        }
        if allPass { return .forward(parts) }
        var kept: [UInt8] = []
        var keptParts = 0
        PayloadBatch.begin(&kept)
        _ = PayloadBatch.forEachPart(of: frame) { part in
            if let (reason, detail) = gate.check(part, from: peer) {
                self.refuse(reason, peer: userID, detail)
            } else {
                PayloadBatch.append(part, to: &kept)
                keptParts += 1
            }
        }
        return keptParts == 0 ? .drop : .forwardOnly(kept, keptParts)
    }

    /// Counts a dropped message and logs it with its peer and reason (the first few of each reason
    /// at warning level, then every 1000th, so a flood cannot flood the log).
    private func refuse(_ reason: SenderPolicy.Refusal, peer: String?, _ detail: String) {
        let seen = self.core.countRefusal(reason)
        guard seen <= Self.loggedRefusals || seen % 1000 == 0 else { return }
        self.logger.warning(
            "refused a message",
            metadata: [
                "mesh.peer": "\(peer ?? "unauthenticated")", "mesh.reason": "\(reason.rawValue)", "mesh.detail": "\(detail)",
                "mesh.refused": "\(seen)",
            ])
    }

    /// Answers the ZAP requests libzmq made for new connections (RFC 27): a CURVE key in the roster
    /// is admitted with its agent id as User-Id; anything else is refused. `true` when it answered any.
    private func answerZAP() throws(TransportError) -> Bool {
        guard let zap = self.zap, let security = self.options.security else { return false }
        var answered = false
        while try zap.receive(into: self.frame) {
            answered = true
            var request: [[UInt8]] = [self.frame.array]
            while self.frame.hasMore, request.count < 16 {
                guard try zap.receive(into: self.frame) else { break }
                request.append(self.frame.array)
            }
            while self.frame.hasMore { guard try zap.receive(into: self.frame) else { break } }
            // version, request id, domain, address, routing id, mechanism, credentials…
            let requestID = request.count > 1 ? request[1] : []
            var status = "400"
            var text = "not in the roster"
            var userID = ""
            var admittedID = ""
            let address = request.count > 3 ? String(decoding: request[3], as: UTF8.self) : "?"
            let mechanism = request.count > 5 ? String(decoding: request[5], as: UTF8.self) : ""
            var key = "-"
            if request.count >= 7, String(decoding: request[0], as: UTF8.self) == "1.0", mechanism == "CURVE" {
                key = request[6].withUnsafeBytes { ZeroMQSystem.z85($0) } ?? "-"
                if let peer = security.roster[key] {
                    status = "200"
                    text = "OK"
                    userID = key
                    admittedID = peer.id.rawValue
                }
            } else {
                text = "mechanism \(mechanism) is not admitted"
            }
            let reply: [[UInt8]] = [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(userID.utf8), []]
            for (index, frame) in reply.enumerated() {
                _ = try zap.send(frame, more: index < reply.count - 1, wait: true)
            }
            if status == "200" {
                self.core.admitted.add(1, ordering: .relaxed)
                self.logger.info(
                    "admitted a connection",
                    metadata: ["mesh.peer": "\(admittedID)", "mesh.address": "\(address)", "mesh.key": "\(key)"])
            } else {
                let denied = self.core.denied.add(1, ordering: .relaxed).newValue
                if denied <= Self.loggedRefusals || denied % 1000 == 0 {
                    self.logger.warning(
                        "refused a connection",
                        metadata: ["mesh.address": "\(address)", "mesh.key": "\(key)", "mesh.reason": "\(text)"])
                }
            }
        }
        return answered
    }
}
