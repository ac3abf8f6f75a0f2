import Logging
import MeshCore

extension Coordinator {
    /// Decodes, checks and routes one inbound batch.
    func handle(_ batch: [WireMessage]) {
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
            guard envelope.sender != .coordinator else { continue }
            if envelope.receiverIncarnation != 0, envelope.receiverIncarnation != self.configuration.incarnation {
                continue  // meant for an earlier coordinator incarnation
            }
            self.handle(envelope, at: now)
        }
        SimulatedTimeMetadata.observe(self.orchestrator.now)
    }

    private func handle(_ envelope: Envelope, at now: MonotonicTime) {
        let sender = envelope.sender
        switch envelope.kind {
        case .hello:
            guard let hello = try? Hello(decoding: envelope.body) else {
                return self.reject("\(sender): malformed hello")
            }
            self.performRoster(
                self.roster.helloReceived(hello, from: sender, incarnation: envelope.senderIncarnation, at: now), at: now)
        case .goodbye:
            self.performRoster(self.roster.goodbyeReceived(from: sender, incarnation: envelope.senderIncarnation), at: now)
        case .welcome, .evicted, .shutdown:
            self.reject("\(sender): agents do not send \(envelope.kind)")
        case .blobRequest:
            // Members only, like everything but a hello: a stranger is told to join first.
            let heard = self.roster.heard(from: sender, incarnation: envelope.senderIncarnation, at: now)
            guard heard.isEmpty else { return self.performRoster(heard, at: now) }
            guard let request = try? BlobRequest(decoding: envelope.body) else {
                return self.reject("\(sender): malformed blob request")
            }
            let (kind, body) = BlobServer.answer(request, from: self.blobStore)
            self.counters.blobChunksServed += 1
            self.emit(Envelope(
                kind: kind, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
                receiver: .agent(sender), receiverIncarnation: envelope.senderIncarnation, body: body))
        case .blobChunk, .blobMissing:
            self.reject("\(sender): the coordinator fetches no blobs, \(envelope.kind) unexpected")
        default:
            let heard = self.roster.heard(from: sender, incarnation: envelope.senderIncarnation, at: now)
            guard heard.isEmpty else { return self.performRoster(heard, at: now) }
            guard self.links[sender] != nil else { return }
            self.linkActions.removeAll(keepingCapacity: true)
            self.links[sender]!.receive(envelope, at: now, into: &self.linkActions)
            self.performLinkActions(from: sender, at: now)
        }
    }

    /// Performs the roster's actions: welcomes, links, evictions, and re-driving work on membership changes.
    func performRoster(_ actions: [Roster.Action], at now: MonotonicTime) {
        for action in actions {
            switch action {
            case .welcome(let member):
                let welcome = self.roster.liveness.welcome(runID: self.configuration.runID)
                self.emit(Envelope(
                    kind: .welcome, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
                    receiver: .agent(member.id), receiverIncarnation: member.incarnation, body: welcome.encoded()))
            case .joined(let member):
                self.directory = self.roster.directory
                self.recordLinkStatistics(member.id, at: now)
                self.links[member.id] = ReliableLink(
                    local: .coordinator, localIncarnation: self.configuration.incarnation, peer: member.id,
                    peerIncarnation: member.incarnation, configuration: self.configuration.link)
                self.processes.insert("\(member.host)/\(member.pid)")
                let services = member.services.keys.sorted().map { " \($0)=\(member.services[$0]!)" }.joined()
                self.physical(
                    "joined", agent: "\(member.id)#\(member.incarnation)",
                    detail: "role=\(member.role.rawValue) pid=\(member.pid) host=\(member.host)\(services)", at: now)
                self.logger.info("agent joined", metadata: ["mesh.peer": "\(member.id)", "mesh.role": "\(member.role.rawValue)"])
                self.maybeStartWorkflow()
                self.membershipChanged(role: member.role, at: now)
            case .departed(let member, let why):
                self.directory = self.roster.directory
                self.counters.departures += 1
                if self.links[member.id]?.peerIncarnation == member.incarnation {
                    self.recordLinkStatistics(member.id, at: now)
                    self.links[member.id] = nil
                }
                self.physical("departed", agent: "\(member.id)#\(member.incarnation)", detail: why.rawValue, at: now)
                self.logger.notice("agent departed", metadata: ["mesh.peer": "\(member.id)", "mesh.why": "\(why.rawValue)"])
                self.membershipChanged(role: member.role, at: now)
            case .evict(let id, let incarnation):
                self.emit(Envelope(
                    kind: .evicted, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
                    receiver: .agent(id), receiverIncarnation: incarnation,
                    body: Notice(reason: "unknown incarnation; join again").encoded()))
            case .broadcastHeartbeat:
                self.emit(Envelope(
                    kind: .heartbeat, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
                    receiver: .broadcast))
            }
        }
    }

    /// Performs a link's actions for the agent `peer`.
    func performLinkActions(from peer: AgentID, at now: MonotonicTime) {
        guard !self.linkActions.isEmpty else { return }
        let actions = self.linkActions
        self.linkActions.removeAll(keepingCapacity: true)
        for action in actions {
            switch action {
            case .transmit(let envelope):
                self.emit(envelope)
            case .deliver(let envelope):
                self.deliver(envelope, from: AgentRef(id: peer, incarnation: envelope.senderIncarnation), at: now)
            case .unreachable(let pending):
                guard let member = self.roster.member(peer) else { continue }
                self.logger.warning("agent stopped acknowledging", metadata: ["mesh.peer": "\(peer)", "mesh.pending": "\(pending)"])
                self.performRoster(self.roster.declareDead(peer, incarnation: member.incarnation), at: now)
            }
        }
    }

    /// Sends `body` on the reliable stream to `ref`, if that incarnation is still the member.
    func send(_ kind: MessageKind, _ body: [UInt8], to ref: AgentRef, simTime: SimTime, at now: MonotonicTime) {
        guard self.links[ref.id]?.peerIncarnation == ref.incarnation else { return }
        self.linkActions.removeAll(keepingCapacity: true)
        self.links[ref.id]!.send(kind: kind, body: body, simTime: simTime, at: now, into: &self.linkActions)
        self.performLinkActions(from: ref.id, at: now)
    }

    /// The live instances of `role`, as negotiation candidates.
    func candidates(of role: Role) -> [AgentRef] {
        self.roster.members(of: role).map { AgentRef(id: $0.id, incarnation: $0.incarnation) }
    }

    /// Starts the workflow once every expected agent has joined.
    func maybeStartWorkflow() {
        guard !self.started else { return }
        let present = Set(self.roster.members.map(\.id))
        guard self.configuration.expectedAgents.allSatisfy(present.contains) else { return }
        self.started = true
        self.pacingOrigin = self.clock.now()
        self.logger.info("every expected agent joined; starting the workflow")
        self.onProgress(self.progress)
        self.perform(self.orchestrator.start(), at: self.clock.now())
    }

    /// Announces the end of the run to every agent and stops.
    /// Journals what the reliable stream to `id` has done so far (physical `link` events, one per
    /// agent incarnation; a later one for the same incarnation supersedes it): retransmissions and
    /// dropped duplicates are what a bad network costs, which the oversight page's `/metrics` shows.
    func recordLinkStatistics(_ id: AgentID, at now: MonotonicTime) {
        guard let link = self.links[id] else { return }
        let statistics = link.statistics
        self.physical(
            "link", agent: "\(id)#\(link.peerIncarnation)",
            detail: "sent=\(statistics.sent) retransmitted=\(statistics.retransmitted) delivered=\(statistics.delivered) "
                + "duplicates=\(statistics.duplicates) out_of_window=\(statistics.outOfWindow)",
            at: now)
    }

    func finishRun() {
        self.logger.info("workflow finished", metadata: ["mesh.digest": "\(self.digest.text)"])
        let now = self.clock.now()
        for id in self.links.keys.sorted() { self.recordLinkStatistics(id, at: now) }
        self.onProgress(self.progress)
        // The latencies are those of the tasks committed before this flush: the writer builds the
        // event when it commits the flush, in a group of its own.
        let at = self.clock.now()
        self.pendingLatencySummary = { latency in
            guard latency.count > 0 else { return nil }
            let summary = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)].map { "\($0.0)_ns=\(latency.percentile($0.1))" }
            return PhysicalEvent(
                kind: "handoff-latency", agent: "coordinator",
                detail: "count=\(latency.count) " + summary.joined(separator: " ") + " max_ns=\(latency.maximum)", at: at)
        }
        // Everything journaled before anyone hears the run is over: the report's reader checks
        // the stored journal against it. So the report goes out after the commit.
        let report = self.report
        let onFinished = self.onFinished
        self.flushOrFail(afterCommit: { onFinished(report) })
        if self.configuration.holdAfterFinish {
            self.logger.notice("workflow finished; holding the mesh up until told to stop")
            return
        }
        self.emit(Envelope(
            kind: .shutdown, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
            receiver: .broadcast, body: Notice(reason: "run finished").encoded()))
        self.stop()
    }
}
