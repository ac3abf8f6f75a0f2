internal import DequeModule
import Logging
import MeshCore
import Synchronization

/// The body of a transport's I/O thread: the only code that touches its sockets.
final class TransportLoop {
    private let core: TransportCore
    private let publisher: ZeroMQSocket
    private let subscriber: ZeroMQSocket
    private let ownedContext: ZeroMQContext?
    private let options: ZeroMQTransport.Options
    private let logger: Logger

    /// Messages taken from callers, not yet accepted by the PUB.
    private var outbox = Deque<WireMessage>()
    /// The head of ``outbox`` had its topic frame accepted; its payload frame is next.
    private var headTopicSent = false
    /// How many messages at the head of ``outbox`` the next payload frame carries (set when the
    /// topic frame is accepted): 1 sends the head's payload as it is; more send ``batchFrame``.
    private var headCount = 0
    /// The batch frame (see ``PayloadBatch``) of the head's run, reused from one batch to the next.
    private var batchFrame: [UInt8] = []
    /// Inbound messages split from a batch frame that did not fit in the last pushed batch.
    private var pendingInbound = Deque<WireMessage>()
    private var commands: [TransportCommand] = []
    private var lastTopic: Topic?
    private let frame = Frame()
    private var pollItems: [ZeroMQSystem.PollItem]

    /// How long to sleep while the consumer is behind before looking at its depth again.
    private static let backPressureRecheckMilliseconds = 5
    private static let idlePollMilliseconds = 100

    init(
        core: TransportCore,
        publisher: ZeroMQSocket,
        subscriber: ZeroMQSocket,
        ownedContext: ZeroMQContext?,
        options: ZeroMQTransport.Options,
        logger: Logger
    ) {
        self.core = core
        self.publisher = publisher
        self.subscriber = subscriber
        self.ownedContext = ownedContext
        self.options = options
        self.logger = logger
        self.pollItems = [
            ZeroMQSystem.pollItem(fd: core.wakeFD, events: ZeroMQSystem.pollIn),
            subscriber.pollItem(ZeroMQSystem.pollIn),
            publisher.pollItem(ZeroMQSystem.pollOut),
        ]
    }

    /// Runs until a stop is requested (or the context is terminated under it), then drains,
    /// closes, and finishes the inbound queue.
    func run() {
        var deadline = ContinuousClock.now + self.options.linger
        do {
            try self.loop()
            deadline = ContinuousClock.now + self.options.linger
            try self.drain(until: deadline)
        } catch {
            self.logger.error("transport I/O thread stops: \(error)")
        }
        let unsent = self.outbox.count
        if unsent > 0 {
            self.core.unsent.add(unsent, ordering: .relaxed)
            self.logger.warning("shutdown: \(unsent) messages were not handed to libzmq within the linger time")
        }
        // What libzmq holds gets the rest of the linger time to reach the forwarder.
        let remaining = max(.zero, deadline - ContinuousClock.now)
        try? self.publisher.set(.linger, remaining)
        self.subscriber.close()
        self.publisher.close()
        self.ownedContext?.terminateBlocking()
        self.core.inbound.finish()
        self.core.finished.signal()
    }

    private func loop() throws(TransportError) {
        while true {
            let stopping = self.core.stopRequested.load(ordering: .acquiring)
            // Taken after reading the flag: everything queued before `shutdown` is seen.
            var progressed = try self.takeCommands(applySubscriptions: !stopping)
            if stopping { return }
            progressed = try self.flush() || progressed
            let readable = self.core.inbound.depth < self.options.inboundLimit
            if readable { progressed = try self.receiveBatch() || progressed }
            if progressed { continue }

            var count = 1
            if readable {
                self.pollItems[count] = self.subscriber.pollItem(ZeroMQSystem.pollIn)
                count += 1
            }
            if !self.outbox.isEmpty {
                self.pollItems[count] = self.publisher.pollItem(ZeroMQSystem.pollOut)
                count += 1
            }
            let timeout = readable ? Self.idlePollMilliseconds : Self.backPressureRecheckMilliseconds
            try ZeroMQSystem.poll(&self.pollItems, count: count, timeoutMilliseconds: timeout)
            if ZeroMQSystem.fired(self.pollItems[0], ZeroMQSystem.pollIn) { ZeroMQSystem.consume(self.core.wakeFD) }
        }
    }

    /// Hands the outbox to libzmq until it is empty or the deadline passes.
    private func drain(until deadline: ContinuousClock.Instant) throws(TransportError) {
        while true {
            _ = try self.flush()
            if self.outbox.isEmpty { return }
            let remaining = (deadline - ContinuousClock.now).milliseconds
            if remaining <= 0 { return }
            self.pollItems[0] = self.publisher.pollItem(ZeroMQSystem.pollOut)
            try ZeroMQSystem.poll(&self.pollItems, count: 1, timeoutMilliseconds: Int(min(remaining, 100)))
        }
    }

    /// Moves the callers' commands in; `true` when there were any.
    private func takeCommands(applySubscriptions: Bool) throws(TransportError) -> Bool {
        self.core.shared.withLock { state in
            state.wakePending = false
            swap(&state.commands, &self.commands)
        }
        guard !self.commands.isEmpty else { return false }
        defer { self.commands.removeAll(keepingCapacity: true) }
        for command in self.commands {
            switch command {
            case .send(let messages):
                self.outbox.append(contentsOf: messages)
            case .subscribe(let topic) where applySubscriptions:
                try self.apply { () throws(TransportError) in try self.subscriber.subscribe(topic.bytes) }
            case .unsubscribe(let topic) where applySubscriptions:
                try self.apply { () throws(TransportError) in try self.subscriber.unsubscribe(topic.bytes) }
            case .subscribe, .unsubscribe:
                break
            case .rekey(let security, let endpoint):
                try self.apply { () throws(TransportError) in try self.reconnect(to: endpoint, with: security) }
            }
        }
        return true
    }

    /// A failed subscription change is logged, not fatal, unless the context is gone.
    private func apply(_ change: () throws(TransportError) -> Void) throws(TransportError) {
        do {
            try change()
        } catch where error.code == .closed {
            throw error
        } catch {
            self.logger.error("subscription change failed: \(error)")
        }
    }

    /// Drops both connections and makes them again with new CURVE keys (``ZeroMQTransport/rekey(_:)``).
    private func reconnect(to endpoint: MeshEndpoint, with security: TransportSecurity) throws(TransportError) {
        for (socket, address) in [(self.publisher, endpoint.xsubEndpoint), (self.subscriber, endpoint.xpubEndpoint)] {
            socket.disconnect(address)
            try socket.set(.curveServerKey, security.serverKey)
            try socket.set(.curvePublicKey, security.keyPair.publicKey)
            try socket.set(.curveSecretKey, security.keyPair.secretKey)
            try socket.connect(address)
        }
        self.logger.info("re-keyed: connecting again", metadata: ["mesh.key": "\(security.keyPair.publicKey)"])
    }

    /// Hands messages to the PUB until it would block; `true` when it took any.
    ///
    /// A run of consecutive messages to one topic goes as one ZeroMQ message whose payload frame
    /// is a ``PayloadBatch`` (up to ``PayloadBatch/maximumFrame`` bytes): the forwarder and both
    /// libzmq I/O threads then pay per batch, not per message. Order is kept: runs are never reordered.
    private func flush() throws(TransportError) -> Bool {
        var sent = 0
        while let message = self.outbox.first {
            if !self.headTopicSent {
                guard try self.publisher.send(message.topic.bytes, more: true) else { break }
                self.headTopicSent = true
                self.prepareHead()
            }
            let accepted: Bool
            if self.headCount == 1 && !PayloadBatch.mustWrap(message.payload) {
                accepted = try self.publisher.send(message.payload, more: false)
            } else {
                accepted = try self.publisher.send(self.batchFrame, more: false)
            }
            guard accepted else { break }
            self.headTopicSent = false
            self.outbox.removeFirst(self.headCount)
            sent += self.headCount
        }
        if sent > 0 { self.core.sent.add(sent, ordering: .relaxed) }
        return sent > 0
    }

    /// Chooses how many messages from the head of ``outbox`` the next payload frame carries, and
    /// builds ``batchFrame`` when that is more than one (or the head's payload must be wrapped).
    private func prepareHead() {
        let head = self.outbox[self.outbox.startIndex]
        var count = 1
        var bytes = head.payload.count
        var index = self.outbox.index(after: self.outbox.startIndex)
        while self.options.batching, index < self.outbox.endIndex {
            let next = self.outbox[index]
            guard next.topic == head.topic, !next.payload.isEmpty,
                PayloadBatch.frameSize(partsBytes: bytes + next.payload.count, parts: count + 1) <= PayloadBatch.maximumFrame
            else { break }
            bytes += next.payload.count
            count += 1
            index = self.outbox.index(after: index)
        }
        // An empty payload cannot be a batch part; it goes alone, as it always did.
        if head.payload.isEmpty { count = 1 }
        self.headCount = count
        guard count > 1 || PayloadBatch.mustWrap(head.payload) else { return }
        PayloadBatch.begin(&self.batchFrame)
        self.batchFrame.reserveCapacity(PayloadBatch.frameSize(partsBytes: bytes, parts: count))
        for offset in 0..<count {
            PayloadBatch.append(self.outbox[self.outbox.index(self.outbox.startIndex, offsetBy: offset)].payload, to: &self.batchFrame)
        }
    }

    /// Reads up to one batch from the SUB and pushes it; `true` when anything was read or pushed.
    ///
    /// A batch frame (``PayloadBatch``) is split into its messages here; what does not fit in this
    /// push waits in ``pendingInbound`` for the next, so a push never exceeds ``Options/batchSize``.
    private func receiveBatch() throws(TransportError) -> Bool {
        var batch: [WireMessage] = []
        batch.reserveCapacity(min(self.options.batchSize, 64 + self.pendingInbound.count))
        var refused = 0
        var read = false
        while batch.count < self.options.batchSize, let pending = self.pendingInbound.popFirst() {
            batch.append(pending)
        }
        while batch.count < self.options.batchSize {
            guard try self.subscriber.receive(into: self.frame) else { break }
            read = true
            guard self.frame.hasMore else {
                refused += 1  // a lone frame: not a Meshwork message
                continue
            }
            let topic = self.topic(of: self.frame)
            // The frames of one message arrive together: the payload is there.
            guard try self.subscriber.receive(into: self.frame) else { break }
            guard !self.frame.hasMore else {
                try self.skipRestOfMessage()
                refused += 1
                continue
            }
            guard let topic else {
                refused += 1
                continue
            }
            let payload = self.frame.bytes
            if payload.first == PayloadBatch.marker {
                refused += self.split(payload, topic: topic, into: &batch)
            } else if payload.count <= self.options.maximumMessageSize {
                batch.append(WireMessage(topic: topic, payload: Array(payload)))
            } else {
                refused += 1
            }
        }
        if refused > 0 {
            self.core.refused.add(refused, ordering: .relaxed)
            self.logger.debug("refused \(refused) malformed or oversized inbound messages")
        }
        if !batch.isEmpty {
            self.core.received.add(batch.count, ordering: .relaxed)
            self.core.inbound.push(batch)
        }
        return read || !batch.isEmpty
    }

    /// Splits a batch frame into `batch` (and, past ``Options/batchSize``, ``pendingInbound``);
    /// returns how many messages were refused: the whole frame when malformed, else each part
    /// over ``Options/maximumMessageSize``.
    private func split(_ frame: UnsafeRawBufferPointer, topic: Topic, into batch: inout [WireMessage]) -> Int {
        var refused = 0
        let limit = self.options.maximumMessageSize
        let batchSize = self.options.batchSize
        let wellFormed = PayloadBatch.forEachPart(of: frame) { part in
            guard part.count <= limit else {
                refused += 1
                return
            }
            let message = WireMessage(topic: topic, payload: Array(part))
            if batch.count < batchSize {
                batch.append(message)
            } else {
                self.pendingInbound.append(message)
            }
        }
        return wellFormed ? refused : 1
    }

    /// The topic in `frame`, reusing the previous message's when the bytes are the same (a stream
    /// to one agent mostly is): one allocation and validation less per message.
    private func topic(of frame: Frame) -> Topic? {
        if let last = self.lastTopic, frame.bytes.elementsEqual(last.bytes) { return last }
        let topic = Topic(bytes: frame.array)
        if topic != nil { self.lastTopic = topic }
        return topic
    }

    private func skipRestOfMessage() throws(TransportError) {
        while self.frame.hasMore {
            guard try self.subscriber.receive(into: self.frame) else { return }
        }
    }
}
