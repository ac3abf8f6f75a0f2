internal import DequeModule
internal import HeapModule
import Logging
import MeshCore

extension Coordinator {
    /// Routes a message delivered once by an agent's link to the negotiation it belongs to.
    func deliver(_ envelope: Envelope, from sender: AgentRef, at now: MonotonicTime) {
        do {
            switch envelope.kind {
            case .bid:
                let bid = try Bid(decoding: envelope.body)
                self.withNegotiation(bid.task, at: now) { $0.bidReceived(bid, from: sender, at: now) }
            case .decline:
                let refusal = try Refusal(decoding: envelope.body)
                self.withNegotiation(refusal.task, at: now) {
                    $0.declineReceived(round: UInt32(clamping: refusal.number), from: sender, at: now)
                }
            case .accept:
                let reference = try AwardReference(decoding: envelope.body)
                self.withNegotiation(reference.task, at: now) { $0.acceptReceived(award: reference.award, from: sender, at: now) }
            case .refuse:
                let refusal = try Refusal(decoding: envelope.body)
                self.withNegotiation(refusal.task, at: now) { $0.refuseReceived(award: refusal.number, from: sender, at: now) }
            case .result:
                let result = try TaskResult(decoding: envelope.body)
                if !result.telemetry.isEmpty {
                    let detail = result.telemetry.keys.sorted().map { "\($0)=\(result.telemetry[$0]!)" }.joined(separator: " ")
                    self.physical("telemetry", agent: "\(sender)", task: result.task.rawValue, detail: detail, at: now)
                }
                if self.openTasks.index(forKey: result.task) != nil {
                    self.withNegotiation(result.task, at: now) { $0.resultReceived(result, from: sender, at: now) }
                } else {
                    // Already committed (or unknown): acknowledge so the agent stops resending.
                    self.counters.staleResults += 1
                    self.physical("stale-result", agent: "\(sender)", task: result.task.rawValue, detail: "award=\(result.award)", at: now)
                    let reference = AwardReference(task: result.task, award: result.award)
                    self.send(.resultAck, reference.encoded(), to: sender, simTime: envelope.simTime, at: now)
                }
            default:
                self.reject("\(sender.id): unexpected \(envelope.kind) on the reliable stream")
            }
        } catch {
            self.reject("\(sender.id): malformed \(envelope.kind): \(error)")
        }
    }

    private func withNegotiation(
        _ task: TaskID,
        at now: MonotonicTime,
        _ event: (inout Negotiation) -> [Negotiation.Action]
    ) {
        guard let index = self.openTasks.index(forKey: task) else { return }
        let actions = Self.withContext(
            of: &self.openTasks.values[index].negotiation, load: self.agentLoad, directory: self.directory, event)
        self.perform(actions, for: task, at: now)
    }

    /// Runs `event` with the coordinator's load and directory lent to the negotiation, and takes
    /// them back afterwards: a negotiation left holding them would make the coordinator's next
    /// change to its own maps copy them whole.
    private static func withContext(
        of negotiation: inout Negotiation,
        load: [AgentID: Int],
        directory: [String: String],
        _ event: (inout Negotiation) -> [Negotiation.Action]
    ) -> [Negotiation.Action] {
        negotiation.agentLoad = load
        negotiation.directory = directory
        defer {
            negotiation.agentLoad = [:]
            negotiation.directory = [:]
        }
        return event(&negotiation)
    }

    /// A timer entry came due: a stale one (its task ended, or an earlier deadline replaced it)
    /// is dropped; otherwise the negotiation checks its deadline, and the task's timer is armed
    /// again at the deadline it has now (a later one waited behind this entry).
    func timerFired(_ timer: CoordinatorTimer, at now: MonotonicTime) {
        guard let index = self.openTasks.index(forKey: timer.task), self.openTasks.values[index].armed == timer.deadline else {
            return
        }
        self.openTasks.values[index].armed = nil
        self.withNegotiation(timer.task, at: now) { $0.timeoutFired(at: now) }
        guard let after = self.openTasks.index(forKey: timer.task), self.openTasks.values[after].armed == nil,
            let deadline = self.openTasks.values[after].negotiation.deadline
        else { return }
        self.arm(timer.task, at: deadline)
    }

    /// Makes sure `task`'s timer fires by `deadline`. An entry already due earlier is enough:
    /// when it fires, the timer is armed again at the negotiation's deadline then. Deadlines
    /// mostly grow (bid, accept, work), so a hand-off costs one heap entry instead of three.
    private func arm(_ task: TaskID, at deadline: MonotonicTime) {
        guard let index = self.openTasks.index(forKey: task) else { return }
        if let armed = self.openTasks.values[index].armed, armed <= deadline { return }
        self.openTasks.values[index].armed = deadline
        self.timers.insert(CoordinatorTimer(deadline: deadline, task: task))
    }

    /// Performs a negotiation's actions for `task`.
    func perform(_ actions: [Negotiation.Action], for task: TaskID, at now: MonotonicTime) {
        // Through the index: `openTasks[task]?.simTime` copies the whole entry (its negotiation's
        // arrays and maps: a retain and a release each) to read one field; a profile showed it.
        let simTime = self.openTasks.index(forKey: task).map { self.openTasks.values[$0].simTime }
            ?? self.orchestrator.now
        for action in actions {
            switch action {
            case .callForProposals(let call, let ref):
                self.send(.callForProposals, call.encoded(), to: ref, simTime: simTime, at: now)
            case .award(let award, let ref):
                if award.award > 1 { self.counters.reawards += 1 }
                self.holdAward(task, by: ref.id)
                self.physical("award", agent: "\(ref)", task: task.rawValue, detail: "award=\(award.award)", at: now)
                self.send(.award, award.encoded(), to: ref, simTime: simTime, at: now)
            case .scheduleTimeout(let deadline):
                self.arm(task, at: deadline)
            case .completed(let output, let ref, let award):
                self.physical("result", agent: "\(ref)", task: task.rawValue, detail: "award=\(award)", at: now)
                self.taskEnded(task, .done(output), at: now)
            case .failed(let reason):
                self.physical("failed", task: task.rawValue, detail: reason, at: now)
                self.taskEnded(task, .failed(reason), at: now)
            case .acknowledgeResult(let reference, let ref):
                self.send(.resultAck, reference.encoded(), to: ref, simTime: simTime, at: now)
            case .ignoredStaleResult(let ref, let award):
                self.counters.staleResults += 1
                self.physical("stale-result", agent: "\(ref)", task: task.rawValue, detail: "award=\(award)", at: now)
            }
        }
    }

    /// Counts `task` against `agent`'s load (and no longer against whoever held it before).
    private func holdAward(_ task: TaskID, by agent: AgentID) {
        guard let index = self.openTasks.index(forKey: task) else { return }
        if let previous = self.openTasks.values[index].holder { self.release(previous) }
        self.openTasks.values[index].holder = agent
        self.agentLoad[agent, default: 0] += 1
    }

    /// Takes one open award off `agent`'s load.
    private func release(_ agent: AgentID) {
        guard let index = self.agentLoad.index(forKey: agent) else { return }
        self.agentLoad.values[index] -= 1
        if self.agentLoad.values[index] <= 0 { self.agentLoad.remove(at: index) }
    }

    private func taskEnded(_ task: TaskID, _ outcome: Orchestrator<W>.Outcome, at now: MonotonicTime) {
        if let ended = self.openTasks.removeValue(forKey: task) {
            if let holder = ended.holder { self.release(holder) }
            self.endedStarts.append(ended.started)
        }
        self.perform(self.orchestrator.resultArrived(task, outcome), at: now)
        self.dispatchFromBacklog(at: now)
    }

    /// Performs the orchestrator's actions: journal entries, dispatches, the end of the run.
    func perform(_ actions: [Orchestrator<W>.Action], at now: MonotonicTime) {
        for action in actions {
            switch action {
            case .journal(let record, let payload):
                let index = self.digest.count
                let digest = self.digest.append(record)
                self.pendingEntries.append(JournalEntry(index: index, record: record, digest: digest, payload: payload))
                if record.kind == "task.done" || record.kind == "task.failed" {
                    let id = TaskID(unchecked: record.subject)
                    if !self.committed.insert(id).inserted { self.counters.duplicateCommits += 1 }
                    if record.kind == "task.failed" { self.counters.failedTasks += 1 }
                }
            case .dispatch(let spec, let at):
                if self.configuration.wallClockPacing, let origin = self.pacingOrigin {
                    let due = origin.adding(.microseconds(Int64(clamping: at.microseconds)))
                    if due > now {
                        self.pacedOrder += 1
                        self.paced.insert(PacedDispatch(due: due, order: self.pacedOrder, spec: spec, at: at))
                        continue
                    }
                }
                if self.openTasks.count < self.configuration.maxInFlight {
                    self.startNegotiation(spec, at: at, now: now)
                } else {
                    self.backlog.append((spec, at))
                }
            case .finished:
                self.finishRun()
            }
        }
    }

    private func dispatchFromBacklog(at now: MonotonicTime) {
        while self.openTasks.count < self.configuration.maxInFlight, let (spec, at) = self.backlog.popFirst() {
            self.startNegotiation(spec, at: at, now: now)
        }
    }

    /// Re-drives what a restored journal left in flight, in start order.
    func resumeRestored() {
        let now = self.clock.now()
        self.logger.notice("resumed from the journal", metadata: [
            "mesh.records": "\(self.digest.count)", "mesh.inFlight": "\(self.pendingRestore.count)",
        ])
        self.onProgress(self.progress)
        let tasks = self.pendingRestore
        self.pendingRestore = []
        for (spec, at) in tasks { self.perform([.dispatch(spec, at: at)], at: now) }
        if self.orchestrator.isFinished { self.finishRun() }
    }

    private func startNegotiation(_ spec: TaskSpec, at simTime: SimTime, now: MonotonicTime) {
        var negotiation = Negotiation(
            task: spec.id, role: spec.role, work: spec.work, input: spec.input, policy: self.configuration.negotiation,
            firstAward: (self.awardFloor[spec.id] ?? 0) + 1)
        let candidates = self.candidates(of: spec.role)
        let actions = Self.withContext(of: &negotiation, load: self.agentLoad, directory: self.directory) {
            $0.start(candidates: candidates, at: now)
        }
        self.openTasks[spec.id] = OpenTask(negotiation: negotiation, simTime: simTime, started: now)
        self.perform(actions, for: spec.id, at: now)
    }

    /// Tells every open negotiation of `role` who its candidates are now.
    func membershipChanged(role: Role, at now: MonotonicTime) {
        let candidates = self.candidates(of: role)
        for task in self.openTasks.keys.sorted() where self.openTasks[task]?.negotiation.role == role {
            self.withNegotiation(task, at: now) { $0.candidatesChanged(candidates, at: now) }
        }
    }
}
