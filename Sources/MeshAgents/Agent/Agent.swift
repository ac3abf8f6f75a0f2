public import Logging
public import MeshCore
public import ServiceLifecycle

/// One agent of the mesh: a role's worker behind the session, reliable-delivery and contract-net
/// machines, as a swift-service-lifecycle `Service`.
///
/// It joins through the coordinator (hello until welcome), bids for the calls its worker can do,
/// accepts awards, runs the work in child tasks, and returns results until they are
/// acknowledged. It sees only MeshCore's transport port, so the same actor runs over ZeroMQ in
/// its own process and over the in-memory transport in tests.
///
/// ```swift
/// let agent = Agent(configuration: config, transport: transport, worker: RelayWorker(), clock: SystemClock(), logger: logger)
/// let group = ServiceGroup(services: [agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// With a ``BlobStorePort`` it also serves the blobs it holds to any peer that asks, and
/// ``fetchBlob(_:from:)`` fetches a blob it lacks from a peer (by default the coordinator),
/// checks it and caches it there (docs/WIRE.md, "Blobs").
public actor Agent: Service {
    /// Counters for tests and the physical journal.
    public struct Statistics: Sendable, Equatable {
        /// Tasks started.
        public var started = 0
        /// Tasks finished (results produced).
        public var finished = 0
        /// Messages rejected as malformed or misrouted.
        public var rejected = 0
        /// Times this agent (re)joined.
        public var joins = 0
        /// Times it was evicted.
        public var evictions = 0
        /// Blob chunks (and refusals) it sent in answer to requests.
        public var blobChunksServed = 0
        /// Blobs it fetched from a peer (not counting those it had cached).
        public var blobsFetched = 0
    }

    private struct BlobFetchState {
        var machine: BlobFetch
        var source: AgentID
        var started = false
        var bytes: [UInt8] = []
        var waiters: [CheckedContinuation<[UInt8], any Error>]
    }

    /// The agent's id.
    public nonisolated let id: AgentID
    /// Its role.
    public nonisolated let role: Role
    /// Its logger (metadata `mesh.agent`).
    public nonisolated let logger: Logger

    private let configuration: AgentConfiguration
    private let transport: any MeshTransport
    private let worker: any Worker
    private let clock: any PhysicalClock
    private let blobStore: (any BlobStorePort)?
    private var blobFetches: [BlobHash: BlobFetchState] = [:]
    /// Queued awards whose input waits in the blob store rather than in memory, by award.
    private var spilledInputs: [AwardReference: BlobHash] = [:]

    private var incarnation: UInt64
    private var session: JoinSession
    private var link: ReliableLink?
    private var contractor: Contractor
    private var outbox: [WireMessage] = []
    private var linkActions: [ReliableLink.Action] = []
    private var stopping = false
    private var stopWaiter: CheckedContinuation<Void, Never>?

    /// Queued awards whose input waits in the blob store now.
    public var spilledInputCount: Int { self.spilledInputs.count }

    /// Counters since start.
    public private(set) var statistics = Statistics()

    /// Makes an agent; ``run()`` starts it.
    ///
    /// `blobStore` is where it serves blobs from and caches the ones it fetches; without one it
    /// answers every blob request with `blobMissing` and keeps fetched blobs in no cache.
    public init(
        configuration: AgentConfiguration,
        transport: any MeshTransport,
        worker: any Worker,
        clock: any PhysicalClock,
        logger: Logger,
        blobStore: (any BlobStorePort)? = nil
    ) {
        self.blobStore = blobStore
        self.id = configuration.id
        self.role = configuration.role
        var logger = logger
        logger[metadataKey: "mesh.agent"] = "\(configuration.id)"
        self.logger = logger
        self.configuration = configuration
        self.transport = transport
        self.worker = worker
        self.clock = clock
        self.incarnation = configuration.incarnation
        self.session = JoinSession(configuration: configuration.liveness)
        self.contractor = Contractor(capacity: configuration.capacity, canDo: { [worker] in worker.canDo($0) })
    }

    /// The current incarnation (bumped on eviction).
    public var currentIncarnation: UInt64 { self.incarnation }

    /// Whether the agent is joined to a coordinator.
    public var isJoined: Bool {
        if case .joined = self.session.state { return true }
        return false
    }

    /// Joins and serves until a graceful shutdown, a `shutdown` from the coordinator, or ``stop()``.
    public func run() async throws {
        try self.transport.subscribe(.agent(self.id))
        try self.transport.subscribe(.role(self.role))
        try self.transport.subscribe(.broadcast)
        self.perform(self.session.start(at: self.clock.now()))
        self.flush()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.receiveLoop() }
            group.addTask { await self.timerLoop() }
            await withGracefulShutdownHandler {
                await self.waitForStop()
            } onGracefulShutdown: {
                Task { await self.stop() }
            }
            await self.leave()
        }
    }

    /// Asks the agent to leave the mesh and end ``run()``.
    public func stop() {
        guard !self.stopping else { return }
        self.stopping = true
        self.stopWaiter?.resume()
        self.stopWaiter = nil
    }

    private func waitForStop() async {
        guard !self.stopping else { return }
        await withCheckedContinuation { self.stopWaiter = $0 }
    }

    private func leave() async {
        if case .joined(let coordinator, _, _) = self.session.state {
            self.emit(Envelope(
                kind: .goodbye, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(.coordinator),
                receiverIncarnation: coordinator, body: Notice(reason: "stopping").encoded()))
        }
        self.session.stop()
        self.flush()
        for hash in self.blobFetches.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            self.blobFetches[hash]?.machine.cancel()
            self.performBlob([.failed(BlobFetchError(.unanswered, hash: hash, "the agent stopped"))], for: hash)
        }
        await self.transport.shutdown()
    }

    private func receiveLoop() async {
        while let batch = await self.transport.inbound.next() {
            self.handle(batch)
        }
    }

    private func timerLoop() async {
        while !self.stopping {
            do {
                try await self.clock.sleep(until: self.clock.now().adding(self.configuration.tickInterval))
            } catch {
                return
            }
            self.tick()
        }
    }

    // MARK: - Inbound

    private func handle(_ batch: [WireMessage]) {
        let now = self.clock.now()
        for message in batch {
            let envelope: Envelope
            do {
                envelope = try Envelope(decoding: message.payload)
            } catch {
                self.reject("undecodable message on \(message.topic): \(error)")
                continue
            }
            guard envelope.receiver == message.topic else {
                self.reject("\(envelope.sender): envelope for \(envelope.receiver) arrived on topic \(message.topic)")
                continue
            }
            if envelope.kind.isBlobTransfer {
                self.handleBlob(envelope, at: now)
                continue
            }
            guard envelope.sender == .coordinator else {
                self.reject("\(envelope.sender): agents take messages from the coordinator only")
                continue
            }
            SimulatedTimeMetadata.observe(envelope.simTime)
            self.handle(envelope, at: now)
        }
        self.flush()
    }

    private func handle(_ envelope: Envelope, at now: MonotonicTime) {
        if envelope.receiverIncarnation != 0, envelope.receiverIncarnation != self.incarnation {
            return  // addressed to an earlier incarnation of this agent
        }
        switch envelope.kind {
        case .welcome:
            guard let welcome = try? Welcome(decoding: envelope.body) else {
                return self.reject("coordinator: malformed welcome")
            }
            self.perform(self.session.welcomeReceived(welcome, from: envelope.senderIncarnation, at: now))
        case .evicted:
            self.statistics.evictions += 1
            self.logger.notice("evicted by the coordinator; rejoining as a new incarnation")
            self.link = nil
            self.incarnation += 1
            self.perform(self.session.evicted(at: now))
        case .shutdown:
            self.logger.info("the coordinator ended the run")
            self.stop()
        default:
            self.handleFromJoinedCoordinator(envelope, at: now)
        }
    }

    private func handleFromJoinedCoordinator(_ envelope: Envelope, at now: MonotonicTime) {
        guard case .joined(let coordinator, _, _) = self.session.state else { return }
        guard envelope.senderIncarnation == coordinator else {
            // A late message of a coordinator incarnation before ours (incarnations only grow): ignore
            // it, or the agent would leave the coordinator it is joined to.
            guard envelope.senderIncarnation > coordinator else { return }
            // Another coordinator incarnation: ours restarted. Rejoin it rather than wait for the deadline.
            self.perform(self.session.evicted(at: now))
            self.link = nil
            return
        }
        self.session.heard(from: coordinator, at: now)
        guard self.link != nil else { return }
        self.linkActions.removeAll(keepingCapacity: true)
        self.link!.receive(envelope, at: now, into: &self.linkActions)
        self.performLinkActions(at: now)
    }

    private func deliver(_ envelope: Envelope, at now: MonotonicTime) {
        do {
            switch envelope.kind {
            case .callForProposals:
                self.perform(self.contractor.callReceived(try CallForProposals(decoding: envelope.body)), simTime: envelope.simTime)
            case .award:
                let award = self.spillingIfQueued(try Award(decoding: envelope.body))
                self.perform(self.contractor.awardReceived(award), simTime: envelope.simTime)
            case .resultAck:
                self.contractor.resultAcknowledged(try AwardReference(decoding: envelope.body))
            default:
                self.reject("coordinator: unexpected \(envelope.kind) on the reliable stream")
            }
        } catch {
            self.reject("coordinator: malformed \(envelope.kind): \(error)")
        }
    }

    // MARK: - Timers

    private func tick() {
        let now = self.clock.now()
        self.perform(self.session.tick(at: now))
        if self.link != nil {
            self.linkActions.removeAll(keepingCapacity: true)
            self.link!.tick(at: now, into: &self.linkActions)
            self.performLinkActions(at: now)
        }
        self.tickBlobFetches(at: now)
        self.flush()
    }

    // MARK: - Actions

    private func perform(_ actions: [JoinSession.Action]) {
        for action in actions {
            switch action {
            case .sendHello:
                let hello = Hello(
                    role: self.role, capacity: UInt32(self.configuration.capacity), pid: self.configuration.pid,
                    host: self.configuration.host, services: self.configuration.services)
                self.emit(Envelope(
                    kind: .hello, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(.coordinator),
                    body: hello.encoded()))
            case .sendHeartbeat(let coordinator):
                var heartbeat = Envelope(
                    kind: .heartbeat, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(.coordinator),
                    receiverIncarnation: coordinator)
                self.link?.piggybackAck(on: &heartbeat)
                self.emit(heartbeat)
            case .joined(let coordinator, _):
                self.statistics.joins += 1
                self.logger.info("joined the mesh", metadata: ["mesh.coordinator": "\(coordinator)"])
                self.link = ReliableLink(
                    local: self.id, localIncarnation: self.incarnation, peer: .coordinator, peerIncarnation: coordinator,
                    configuration: self.configuration.link)
                self.perform(self.contractor.resendAfterCoordinatorChange(), simTime: .zero)
                self.tickBlobFetches(at: self.clock.now())
            case .lostCoordinator(let coordinator):
                self.logger.warning("lost the coordinator", metadata: ["mesh.coordinator": "\(coordinator)"])
                self.link = nil
                // A link is bound to one incarnation of each side: rejoining as the same incarnation
                // would meet a coordinator whose link for it still counts the old stream, and that
                // link would take the new messages for duplicates, acknowledge and drop them.
                self.incarnation += 1
            }
        }
    }

    private func perform(_ actions: [Contractor.Action], simTime: SimTime) {
        for action in actions {
            switch action {
            case .bid(let bid): self.sendReliably(.bid, bid.encoded(), simTime: simTime)
            case .decline(let refusal): self.sendReliably(.decline, refusal.encoded(), simTime: simTime)
            case .accept(let reference): self.sendReliably(.accept, reference.encoded(), simTime: simTime)
            case .result(let result): self.sendReliably(.result, result.encoded(), simTime: simTime)
            case .start(let award):
                self.statistics.started += 1
                let input: [UInt8]
                do {
                    input = try self.unspilledInput(of: award)
                } catch {
                    let assignment = Assignment(task: award.task, work: award.work, input: [], simTime: simTime, context: award.context)
                    self.workFinished(assignment, award: award.award, report: WorkReport(.failed("\(error)")))
                    continue
                }
                let assignment = Assignment(
                    task: award.task, work: award.work, input: input, simTime: simTime, context: award.context)
                let worker = self.worker
                Task {
                    let report = await worker.performReporting(assignment)
                    self.workFinished(assignment, award: award.award, report: report)
                }
            }
        }
    }

    /// An award that will wait for a slot keeps a large input in the blob store, not in memory:
    /// a fleet's use cases move in lockstep, and an agent's queue held hundreds of deploys and
    /// serving tests at once. Without a store, or when the store refuses, it stays in memory.
    private func spillingIfQueued(_ award: Award) -> Award {
        guard let store = self.blobStore, award.input.count >= self.configuration.spillInputBytes, self.contractor.wouldQueue(award) else {
            return award
        }
        do {
            let hash = try store.put(award.input)
            self.spilledInputs[AwardReference(task: award.task, award: award.award)] = hash
            var spilled = award
            spilled.input = []
            return spilled
        } catch {
            self.logger.warning("cannot keep a queued input in the blob store; it stays in memory", metadata: ["mesh.error": "\(error)"])
            return award
        }
    }

    /// The input of an award that starts now: read back from the blob store if it waited there.
    private func unspilledInput(of award: Award) throws -> [UInt8] {
        guard let hash = self.spilledInputs.removeValue(forKey: AwardReference(task: award.task, award: award.award)) else {
            return award.input
        }
        guard let store = self.blobStore else { preconditionFailure("an input was spilled without a blob store") }
        do {
            let input = try store.get(hash)
            guard BlobHash(of: input) == hash else { throw QueuedInputError(task: award.task, hash: hash, reason: "it does not match its hash") }
            return input
        } catch let error as QueuedInputError {
            throw error
        } catch {
            throw QueuedInputError(task: award.task, hash: hash, reason: "\(error)")
        }
    }

    private func workFinished(_ assignment: Assignment, award: UInt64, report: WorkReport) {
        self.statistics.finished += 1
        self.perform(
            self.contractor.workFinished(assignment.task, award: award, outcome: report.outcome, telemetry: report.telemetry),
            simTime: assignment.simTime)
        self.flush()
    }

    private func sendReliably(_ kind: MessageKind, _ body: [UInt8], simTime: SimTime) {
        guard self.link != nil else { return }  // kept by the contractor and resent once joined again
        let now = self.clock.now()
        self.linkActions.removeAll(keepingCapacity: true)
        self.link!.send(kind: kind, body: body, simTime: simTime, at: now, into: &self.linkActions)
        self.performLinkActions(at: now)
    }

    private func performLinkActions(at now: MonotonicTime) {
        guard !self.linkActions.isEmpty else { return }
        let actions = self.linkActions
        self.linkActions.removeAll(keepingCapacity: true)
        for action in actions {
            switch action {
            case .transmit(let envelope):
                self.emit(envelope)
            case .deliver(let envelope):
                self.deliver(envelope, at: now)
            case .unreachable(let pending):
                self.logger.warning("the coordinator stopped acknowledging", metadata: ["mesh.pending": "\(pending)"])
                self.link = nil
                self.perform(self.session.evicted(at: now))
            }
        }
    }

    private func emit(_ envelope: Envelope) {
        self.outbox.append(WireMessage(envelope))
    }

    private func flush() {
        guard !self.outbox.isEmpty else { return }
        let messages = self.outbox
        self.outbox.removeAll(keepingCapacity: true)
        do {
            try self.transport.send(messages)
        } catch {
            self.logger.debug("send failed", metadata: ["mesh.error": "\(error)"])
        }
    }

    private func reject(_ reason: String) {
        self.statistics.rejected += 1
        if self.statistics.rejected <= 20 || self.statistics.rejected % 1000 == 0 {
            self.logger.warning("rejected a message", metadata: ["mesh.reason": "\(reason)", "mesh.count": "\(self.statistics.rejected)"])
        }
    }

    // MARK: - Blobs

    /// The bytes of the blob `hash`: from this agent's store when it holds them, else fetched
    /// from `source` in chunks (docs/WIRE.md, "Blobs"), checked against the hash and cached in
    /// the store before they are returned.
    ///
    /// A fetch starts once the agent has joined; fetches of one hash share one transfer. Throws
    /// ``BlobFetchError``: `.missing` when the source does not have it, `.unanswered` when it
    /// stops answering (or the agent stops), `.sizeMismatch`/`.hashMismatch` for bad bytes.
    public func fetchBlob(_ hash: BlobHash, from source: AgentID = .coordinator) async throws -> [UInt8] {
        if let store = self.blobStore, store.contains(hash), let bytes = try? store.get(hash) {
            return bytes
        }
        return try await withCheckedThrowingContinuation { continuation in
            guard !self.stopping else {
                return continuation.resume(throwing: BlobFetchError(.unanswered, hash: hash, "the agent is stopping"))
            }
            if self.blobFetches[hash] != nil {
                self.blobFetches[hash]!.waiters.append(continuation)
                return
            }
            self.blobFetches[hash] = BlobFetchState(
                machine: BlobFetch(hash: hash, configuration: self.configuration.blobFetch), source: source,
                waiters: [continuation])
            self.tickBlobFetches(at: self.clock.now())
            self.flush()
        }
    }

    private func handleBlob(_ envelope: Envelope, at now: MonotonicTime) {
        if envelope.receiverIncarnation != 0, envelope.receiverIncarnation != self.incarnation { return }
        do {
            switch envelope.kind {
            case .blobRequest:
                let request = try BlobRequest(decoding: envelope.body)
                let (kind, body) = BlobServer.answer(request, from: self.blobStore)
                self.statistics.blobChunksServed += 1
                self.emit(Envelope(
                    kind: kind, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(envelope.sender),
                    receiverIncarnation: envelope.senderIncarnation, body: body))
            case .blobChunk:
                let chunk = try BlobChunk(decoding: envelope.body)
                guard self.blobFetches[chunk.hash]?.source == envelope.sender else { return }
                self.performBlob(self.blobFetches[chunk.hash]!.machine.chunkReceived(chunk, at: now), for: chunk.hash)
            case .blobMissing:
                let missing = try BlobMissing(decoding: envelope.body)
                guard self.blobFetches[missing.hash]?.source == envelope.sender else { return }
                self.performBlob(self.blobFetches[missing.hash]!.machine.missingReceived(missing), for: missing.hash)
            default:
                break
            }
        } catch {
            self.reject("\(envelope.sender): malformed \(envelope.kind): \(error)")
        }
    }

    /// Starts the fetches waiting for the join, and times out the requests of running ones.
    private func tickBlobFetches(at now: MonotonicTime) {
        guard !self.blobFetches.isEmpty else { return }
        let joined = self.isJoined
        for hash in Array(self.blobFetches.keys) {
            guard let state = self.blobFetches[hash] else { continue }
            if !state.started {
                guard joined else { continue }
                self.blobFetches[hash]!.started = true
                self.performBlob(self.blobFetches[hash]!.machine.start(at: now), for: hash)
            } else {
                self.performBlob(self.blobFetches[hash]!.machine.tick(at: now), for: hash)
            }
        }
    }

    private func performBlob(_ actions: [BlobFetch.Action], for hash: BlobHash) {
        guard let source = self.blobFetches[hash]?.source else { return }
        for action in actions {
            switch action {
            case .request(let request):
                self.emit(Envelope(
                    kind: .blobRequest, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(source),
                    body: request.encoded()))
            case .write(_, let bytes):
                self.blobFetches[hash]?.bytes.append(contentsOf: bytes)
            case .done(let size):
                guard let state = self.blobFetches.removeValue(forKey: hash) else { continue }
                self.statistics.blobsFetched += 1
                self.logger.info("fetched a blob", metadata: ["mesh.blob": "\(hash)", "mesh.bytes": "\(size)", "mesh.peer": "\(source)"])
                do {
                    try self.blobStore?.put(state.bytes)
                } catch {
                    self.logger.warning("cannot cache a fetched blob", metadata: ["mesh.blob": "\(hash)", "mesh.error": "\(error)"])
                }
                for waiter in state.waiters { waiter.resume(returning: state.bytes) }
            case .failed(let error):
                guard let state = self.blobFetches.removeValue(forKey: hash) else { continue }
                self.logger.warning("a blob fetch failed", metadata: ["mesh.blob": "\(hash)", "mesh.error": "\(error)"])
                for waiter in state.waiters { waiter.resume(throwing: error) }
            }
        }
    }
}

/// A queued award's input, kept in the blob store while it waited, cannot be read back.
struct QueuedInputError: Error, CustomStringConvertible {
    var task: TaskID
    var hash: BlobHash
    var reason: String
    var description: String { "queuedInputUnavailable: task \(self.task): its input (blob \(self.hash)) cannot be read back: \(self.reason)" }
}
