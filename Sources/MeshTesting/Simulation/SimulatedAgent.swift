import MeshAgents
import MeshCore

/// The agent actor's glue (`Agent` in MeshAgents) re-told without an actor: the same
/// ``JoinSession``, ``ReliableLink`` and ``Contractor``, composed the same way. Work does not
/// run in a child task: a `.start` becomes a ``startedWork`` entry the world turns into a
/// completion event some simulated milliseconds later.
final class SimulatedAgent {
    let id: AgentID
    let role: Role
    let configuration: AgentConfiguration
    let probe: SimulationProbe
    let work: SimulationWork
    let flaw: SimulationFlaw?

    private(set) var incarnation: UInt64
    private(set) var session: JoinSession
    private var link: TrackedLink?
    private var contractor: Contractor
    private var outbox: [Envelope] = []
    private var linkActions: [ReliableLink.Action] = []
    private(set) var stopping = false
    /// Work started by the last handler, for the world to schedule.
    var startedWork: [(award: Award, simTime: SimTime)] = []

    init(configuration: AgentConfiguration, work: SimulationWork, probe: SimulationProbe, flaw: SimulationFlaw?) {
        self.flaw = flaw
        self.id = configuration.id
        self.role = configuration.role
        self.configuration = configuration
        self.probe = probe
        self.work = work
        self.incarnation = configuration.incarnation
        self.session = JoinSession(configuration: configuration.liveness)
        self.contractor = Contractor(capacity: configuration.capacity, canDo: { [work] in work.canDo($0) })
    }

    var isJoined: Bool {
        if case .joined = self.session.state { return true }
        return false
    }

    var nextDeadline: MonotonicTime? {
        switch (self.session.nextDeadline, self.link?.nextDeadline) {
        case (nil, nil): nil
        case (let a?, nil): a
        case (nil, let b?): b
        case (let a?, let b?): min(a, b)
        }
    }

    func takeOutbox() -> [Envelope] {
        defer { self.outbox.removeAll(keepingCapacity: true) }
        return self.outbox
    }

    /// `run()` up to its loops.
    func start(at now: MonotonicTime) {
        self.perform(self.session.start(at: now), at: now)
    }

    // MARK: - Inbound

    func handle(_ envelope: Envelope, topic: Topic, at now: MonotonicTime) {
        guard !self.stopping else { return }
        guard envelope.receiver == topic else { return }
        guard !envelope.kind.isBlobTransfer else { return }
        guard envelope.sender == .coordinator else { return }
        self.handle(envelope, at: now)
    }

    private func handle(_ envelope: Envelope, at now: MonotonicTime) {
        if envelope.receiverIncarnation != 0, envelope.receiverIncarnation != self.incarnation {
            return  // addressed to an earlier incarnation of this agent
        }
        switch envelope.kind {
        case .welcome:
            guard let welcome = try? Welcome(decoding: envelope.body) else { return }
            self.perform(self.session.welcomeReceived(welcome, from: envelope.senderIncarnation, at: now), at: now)
        case .evicted:
            self.link = nil
            self.incarnation += 1
            self.perform(self.session.evicted(at: now), at: now)
        case .shutdown:
            self.stopping = true
        default:
            self.handleFromJoinedCoordinator(envelope, at: now)
        }
    }

    private func handleFromJoinedCoordinator(_ envelope: Envelope, at now: MonotonicTime) {
        guard case .joined(let coordinator, _, _) = self.session.state else { return }
        guard envelope.senderIncarnation == coordinator else {
            guard envelope.senderIncarnation > coordinator || self.flaw == .rejoinsAsTheSameIncarnation else { return }
            self.perform(self.session.evicted(at: now), at: now)
            self.link = nil
            return
        }
        self.session.heard(from: coordinator, at: now)
        guard self.link != nil else { return }
        self.linkActions.removeAll(keepingCapacity: true)
        self.link!.receive(envelope, at: now, into: &self.linkActions, probe: self.probe)
        self.performLinkActions(at: now)
    }

    private func deliver(_ envelope: Envelope, at now: MonotonicTime) {
        do {
            switch envelope.kind {
            case .callForProposals:
                self.perform(self.contractor.callReceived(try CallForProposals(decoding: envelope.body)), simTime: envelope.simTime, at: now)
            case .award:
                let award = try Award(decoding: envelope.body)
                self.perform(self.contractor.awardReceived(award), simTime: envelope.simTime, at: now)
            case .resultAck:
                self.contractor.resultAcknowledged(try AwardReference(decoding: envelope.body))
            default:
                break
            }
        } catch {
            return
        }
    }

    // MARK: - Timers

    func tick(at now: MonotonicTime) {
        guard !self.stopping else { return }
        self.perform(self.session.tick(at: now), at: now)
        if self.link != nil {
            self.linkActions.removeAll(keepingCapacity: true)
            self.link!.tick(at: now, into: &self.linkActions)
            self.performLinkActions(at: now)
        }
    }

    // MARK: - Actions

    private func perform(_ actions: [JoinSession.Action], at now: MonotonicTime) {
        for action in actions {
            switch action {
            case .sendHello:
                let hello = Hello(
                    role: self.role, capacity: UInt32(self.configuration.capacity), pid: self.configuration.pid,
                    host: self.configuration.host, services: self.configuration.services)
                self.outbox.append(Envelope(
                    kind: .hello, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(.coordinator),
                    body: hello.encoded()))
            case .sendHeartbeat(let coordinator):
                var heartbeat = Envelope(
                    kind: .heartbeat, sender: self.id, senderIncarnation: self.incarnation, receiver: .agent(.coordinator),
                    receiverIncarnation: coordinator)
                self.link?.piggybackAck(on: &heartbeat)
                self.outbox.append(heartbeat)
            case .joined(let coordinator, _):
                self.link = TrackedLink(ReliableLink(
                    local: self.id, localIncarnation: self.incarnation, peer: .coordinator, peerIncarnation: coordinator,
                    configuration: self.configuration.link))
                self.perform(self.contractor.resendAfterCoordinatorChange(), simTime: .zero, at: now)
            case .lostCoordinator:
                self.link = nil
                if self.flaw != .rejoinsAsTheSameIncarnation { self.incarnation += 1 }
            }
        }
    }

    private func perform(_ actions: [Contractor.Action], simTime: SimTime, at now: MonotonicTime) {
        for action in actions {
            switch action {
            case .bid(let bid): self.sendReliably(.bid, bid.encoded(), simTime: simTime, at: now)
            case .decline(let refusal): self.sendReliably(.decline, refusal.encoded(), simTime: simTime, at: now)
            case .accept(let reference): self.sendReliably(.accept, reference.encoded(), simTime: simTime, at: now)
            case .result(let result): self.sendReliably(.result, result.encoded(), simTime: simTime, at: now)
            case .start(let award): self.startedWork.append((award, simTime))
            }
        }
    }

    /// A task started by this process finished (`workFinished` of the actor).
    func workFinished(_ award: Award, simTime: SimTime, at now: MonotonicTime) {
        let outcome = self.work.perform(award.work, award.task, award.input)
        self.perform(self.contractor.workFinished(award.task, award: award.award, outcome: outcome), simTime: simTime, at: now)
    }

    private func sendReliably(_ kind: MessageKind, _ body: [UInt8], simTime: SimTime, at now: MonotonicTime) {
        guard self.link != nil else { return }  // kept by the contractor and resent once joined again
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
                self.outbox.append(envelope)
            case .deliver(let envelope):
                self.deliver(envelope, at: now)
            case .unreachable:
                self.link = nil
                self.perform(self.session.evicted(at: now), at: now)
            }
        }
    }
}
