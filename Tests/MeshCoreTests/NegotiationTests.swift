import MeshCore
import Testing

@Suite("Hand-off negotiation (contract net)")
struct NegotiationTests {
    let task = TaskID(unchecked: "t/1")
    let a = AgentRef(id: AgentID(unchecked: "data-1"), incarnation: 1)
    let b = AgentRef(id: AgentID(unchecked: "data-2"), incarnation: 1)
    let c = AgentRef(id: AgentID(unchecked: "data-3"), incarnation: 1)
    let t0 = MonotonicTime.zero

    func make() -> Negotiation {
        Negotiation(task: self.task, role: .data, work: "w", input: [7])
    }

    func awards(_ actions: [Negotiation.Action]) -> [(Award, AgentRef)] {
        actions.compactMap { if case .award(let award, let to) = $0 { (award, to) } else { nil } }
    }

    func bid(_ round: UInt32 = 1, free: UInt32 = 1) -> Bid { Bid(task: self.task, round: round, freeSlots: free) }

    @Test func happyPathCallsBidsAwardsAcceptsAndCompletes() {
        var n = self.make()
        let calls = n.start(candidates: [self.b, self.a], at: self.t0)
        #expect(calls.filter { if case .callForProposals = $0 { true } else { false } }.count == 2)
        #expect(n.bidReceived(self.bid(), from: self.a, at: self.t0).isEmpty)
        let awarded = self.awards(n.bidReceived(self.bid(), from: self.b, at: self.t0))
        #expect(awarded.count == 1 && awarded[0].0.award == 1 && awarded[0].0.input == [7])
        let awardee = awarded[0].1
        #expect(n.acceptReceived(award: 1, from: awardee, at: self.t0).count == 1)  // the work timeout
        let done = n.resultReceived(TaskResult(task: self.task, award: 1, outcome: .done([9])), from: awardee, at: self.t0)
        #expect(done == [
            .completed(output: [9], by: awardee, award: 1),
            .acknowledgeResult(AwardReference(task: self.task, award: 1), to: awardee),
        ])
        #expect(n.isFinished)
    }

    /// `deadline` is the deadline of every `.scheduleTimeout` the negotiation asked for last (the
    /// coordinator keeps one timer per negotiation and re-arms from it), and nil once it ended.
    @Test func theDeadlineIsTheLastScheduledTimeout() {
        func scheduled(_ actions: [Negotiation.Action]) -> MonotonicTime? {
            actions.compactMap { if case .scheduleTimeout(let at) = $0 { at } else { nil } }.last
        }
        var policy = Negotiation.Policy()
        policy.bidTimeout = .seconds(2)
        policy.acceptTimeout = .seconds(5)
        policy.workTimeout = .seconds(60)
        var n = Negotiation(task: self.task, role: .data, work: "w", input: [7], policy: policy)
        #expect(n.deadline == nil)
        let called = scheduled(n.start(candidates: [self.a], at: self.t0))
        #expect(called == self.t0.adding(.seconds(2)) && n.deadline == called)
        let t1 = self.t0.adding(.milliseconds(1))
        let awarded = scheduled(n.bidReceived(self.bid(), from: self.a, at: t1))
        #expect(awarded == t1.adding(.seconds(5)) && n.deadline == awarded)
        let t2 = t1.adding(.milliseconds(1))
        let accepted = scheduled(n.acceptReceived(award: 1, from: self.a, at: t2))
        #expect(accepted == t2.adding(.seconds(60)) && n.deadline == accepted)
        // An early check changes nothing: the owner re-arms at the same deadline.
        #expect(n.timeoutFired(at: self.t0.adding(.seconds(2))).isEmpty && n.deadline == accepted)
        _ = n.resultReceived(TaskResult(task: self.task, award: 1, outcome: .done([1])), from: self.a, at: t2)
        #expect(n.deadline == nil)
    }

    @Test func theAwardDoesNotDependOnTheOrderBidsArrive() {
        var winners: Set<AgentRef> = []
        for order in [[self.a, self.b, self.c], [self.c, self.b, self.a], [self.b, self.c, self.a]] {
            var n = self.make()
            _ = n.start(candidates: [self.a, self.b, self.c], at: self.t0)
            var actions: [Negotiation.Action] = []
            for ref in order { actions += n.bidReceived(self.bid(), from: ref, at: self.t0) }
            winners.formUnion(self.awards(actions).map(\.1))
        }
        #expect(winners.count == 1)
    }

    @Test func bidsWithAFreeSlotWin() {
        var n = self.make()
        _ = n.start(candidates: [self.a, self.b], at: self.t0)
        let ranked = AwardRule.rank([self.a: self.bid(free: 1), self.b: self.bid(free: 1)], for: self.task)
        let busy = ranked[0]
        let idle = ranked[1]
        _ = n.bidReceived(self.bid(free: 0), from: busy, at: self.t0)
        #expect(self.awards(n.bidReceived(self.bid(free: 3), from: idle, at: self.t0)).map(\.1) == [idle])
    }

    @Test func decidesAtTheBidTimeoutWithTheBidsItHas() {
        var n = self.make()
        _ = n.start(candidates: [self.a, self.b], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        #expect(n.timeoutFired(at: self.t0.adding(.milliseconds(1999))).isEmpty)
        #expect(self.awards(n.timeoutFired(at: self.t0.adding(.seconds(2)))).map(\.1) == [self.a])
    }

    @Test func ignoresBidsOfAnotherRoundOrFromStrangers() {
        var n = self.make()
        _ = n.start(candidates: [self.a], at: self.t0)
        #expect(n.bidReceived(self.bid(2), from: self.a, at: self.t0).isEmpty)
        #expect(n.bidReceived(self.bid(), from: self.c, at: self.t0).isEmpty)
        guard case .calling = n.state else {
            Issue.record("still calling expected, got \(n.state)")
            return
        }
    }

    @Test func whenEveryoneDeclinesItCallsAgainLater() {
        var n = self.make()
        _ = n.start(candidates: [self.a], at: self.t0)
        let actions = n.declineReceived(round: 1, from: self.a, at: self.t0)
        #expect(actions == [.scheduleTimeout(at: self.t0.adding(.milliseconds(100)))])
        let again = n.timeoutFired(at: self.t0.adding(.milliseconds(100)))
        #expect(again.contains(.callForProposals(CallForProposals(task: self.task, round: 2, work: "w"), to: self.a)))
    }

    @Test func aRefusalGoesToTheNextBidder() {
        var n = self.make()
        _ = n.start(candidates: [self.a, self.b], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        let first = self.awards(n.bidReceived(self.bid(), from: self.b, at: self.t0))[0]
        let second = self.awards(n.refuseReceived(award: first.0.award, from: first.1, at: self.t0))
        #expect(second.count == 1 && second[0].1 != first.1 && second[0].0.award == 2)
    }

    @Test func aMissingAcceptReawards() {
        var n = self.make()
        _ = n.start(candidates: [self.a, self.b], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        let first = self.awards(n.bidReceived(self.bid(), from: self.b, at: self.t0))[0]
        let second = self.awards(n.timeoutFired(at: self.t0.adding(.seconds(5))))
        #expect(second.count == 1 && second[0].1 != first.1)
    }

    @Test func theAwardeesDeathReawardsAndItsLateResultIsStale() {
        var n = self.make()
        _ = n.start(candidates: [self.a, self.b], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        let (award, awardee) = self.awards(n.bidReceived(self.bid(), from: self.b, at: self.t0))[0]
        _ = n.acceptReceived(award: award.award, from: awardee, at: self.t0)
        let survivor = awardee == self.a ? self.b : self.a
        let calls = n.departed(awardee, at: self.t0)
        #expect(calls.contains(.callForProposals(CallForProposals(task: self.task, round: 2, work: "w"), to: survivor)))
        let reaward = self.awards(n.bidReceived(self.bid(2), from: survivor, at: self.t0))
        #expect(reaward.map(\.0.award) == [2])
        let late = n.resultReceived(TaskResult(task: self.task, award: 1, outcome: .done([1])), from: awardee, at: self.t0)
        #expect(late == [
            .ignoredStaleResult(from: awardee, award: 1),
            .acknowledgeResult(AwardReference(task: self.task, award: 1), to: awardee),
        ])
        #expect(!n.isFinished)
        let done = n.resultReceived(TaskResult(task: self.task, award: 2, outcome: .done([2])), from: survivor, at: self.t0)
        #expect(done.first == .completed(output: [2], by: survivor, award: 2))
    }

    @Test func aWorkTimeoutFencesTheOldAward() {
        var n = self.make()
        _ = n.start(candidates: [self.a], at: self.t0)
        _ = self.awards(n.bidReceived(self.bid(), from: self.a, at: self.t0))
        _ = n.acceptReceived(award: 1, from: self.a, at: self.t0)
        let later = self.t0.adding(.seconds(60))
        #expect(n.timeoutFired(at: later).contains(.callForProposals(CallForProposals(task: self.task, round: 2, work: "w"), to: self.a)))
        #expect(self.awards(n.bidReceived(self.bid(2), from: self.a, at: later)).map(\.0.award) == [2])
        let stale = n.resultReceived(TaskResult(task: self.task, award: 1, outcome: .done([])), from: self.a, at: later)
        #expect(stale.first == .ignoredStaleResult(from: self.a, award: 1))
    }

    @Test func aDuplicateResultAfterCompletionIsStaleButAcknowledged() {
        var n = self.make()
        _ = n.start(candidates: [self.a], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        let result = TaskResult(task: self.task, award: 1, outcome: .done([1]))
        #expect(n.resultReceived(result, from: self.a, at: self.t0).first == .completed(output: [1], by: self.a, award: 1))
        #expect(n.resultReceived(result, from: self.a, at: self.t0).first == .ignoredStaleResult(from: self.a, award: 1))
    }

    @Test func aFailedOutcomeFailsTheTask() {
        var n = self.make()
        _ = n.start(candidates: [self.a], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        let actions = n.resultReceived(TaskResult(task: self.task, award: 1, outcome: .failed("bad input")), from: self.a, at: self.t0)
        #expect(actions.first == .failed(reason: "bad input"))
        #expect(n.state == .failed("bad input"))
    }

    @Test func waitsForCandidatesThenCalls() {
        var n = self.make()
        #expect(n.start(candidates: [], at: self.t0).isEmpty)
        #expect(n.state == .waitingForCandidates(round: 1))
        let actions = n.candidatesChanged([self.a], at: self.t0)
        #expect(actions.contains(.callForProposals(CallForProposals(task: self.task, round: 1, work: "w"), to: self.a)))
    }

    @Test func aCandidateLeavingWhileCallingIsNotWaitedFor() {
        var n = self.make()
        _ = n.start(candidates: [self.a, self.b], at: self.t0)
        _ = n.bidReceived(self.bid(), from: self.a, at: self.t0)
        #expect(self.awards(n.candidatesChanged([self.a], at: self.t0)).map(\.1) == [self.a])
    }

    @Test func failsAfterTheMaximumRounds() {
        var policy = Negotiation.Policy()
        policy.maxRounds = 3
        var n = Negotiation(task: self.task, role: .data, work: "w", input: [], policy: policy)
        _ = n.start(candidates: [self.a], at: self.t0)
        var now = self.t0
        for round in 1...3 {
            _ = n.declineReceived(round: UInt32(round), from: self.a, at: now)
            now = now.adding(.milliseconds(100))
            _ = n.timeoutFired(at: now)
        }
        guard case .failed(let reason) = n.state else {
            Issue.record("expected failure, got \(n.state)")
            return
        }
        #expect(reason.contains("3 rounds"))
    }

    @Test func fencingNumbersContinueAfterARestart() {
        var n = Negotiation(task: self.task, role: .data, work: "w", input: [], firstAward: 11)
        _ = n.start(candidates: [self.a], at: self.t0)
        #expect(self.awards(n.bidReceived(self.bid(), from: self.a, at: self.t0)).map(\.0.award) == [11])
    }
}

@Suite("Contractor (agent side of a hand-off)")
struct ContractorTests {
    let task = TaskID(unchecked: "t/1")

    func award(_ number: UInt64 = 1, task: TaskID? = nil) -> Award {
        Award(task: task ?? self.task, award: number, work: "w", input: [])
    }

    @Test func bidsForWhatItCanDoAndDeclinesTheRest() {
        let contractor = Contractor(capacity: 2, canDo: { $0 == "w" })
        #expect(contractor.callReceived(CallForProposals(task: self.task, round: 3, work: "w"))
            == [.bid(Bid(task: self.task, round: 3, freeSlots: 2))])
        guard case .decline(let refusal) = contractor.callReceived(CallForProposals(task: self.task, round: 3, work: "x")).first else {
            Issue.record("expected a decline")
            return
        }
        #expect(refusal.number == 3 && refusal.reason.contains("x"))
    }

    @Test func acceptsAndStartsAnAwardOnceHoweverOftenItArrives() {
        var contractor = Contractor(capacity: 2, canDo: { _ in true })
        let reference = AwardReference(task: self.task, award: 1)
        #expect(contractor.awardReceived(self.award()) == [.accept(reference), .start(self.award())])
        #expect(contractor.awardReceived(self.award()) == [.accept(reference)])
        let done = contractor.workFinished(self.task, award: 1, outcome: .done([5]))
        let result = TaskResult(task: self.task, award: 1, outcome: .done([5]))
        #expect(done == [.result(result)])
        #expect(contractor.awardReceived(self.award()) == [.accept(reference), .result(result)])
        contractor.resultAcknowledged(reference)
        #expect(contractor.awardReceived(self.award()) == [.accept(reference)])
        #expect(contractor.unacknowledgedCount == 0)
    }

    @Test func queuesBeyondCapacityAndStartsInOrder() {
        var contractor = Contractor(capacity: 1, canDo: { _ in true })
        let second = TaskID(unchecked: "t/2")
        _ = contractor.awardReceived(self.award())
        #expect(contractor.awardReceived(self.award(task: second)) == [.accept(AwardReference(task: second, award: 1))])
        #expect(contractor.queuedCount == 1)
        #expect(contractor.callReceived(CallForProposals(task: TaskID(unchecked: "t/3"), round: 1, work: "w"))
            == [.bid(Bid(task: TaskID(unchecked: "t/3"), round: 1, freeSlots: 0))])
        let actions = contractor.workFinished(self.task, award: 1, outcome: .done([]))
        #expect(actions.last == .start(self.award(task: second)))
    }

    @Test func keepsResultsUntilAcknowledgedAndResendsThemToANewCoordinator() {
        var contractor = Contractor(capacity: 4, canDo: { _ in true })
        _ = contractor.awardReceived(self.award())
        _ = contractor.workFinished(self.task, award: 1, outcome: .done([1]))
        #expect(contractor.resendAfterCoordinatorChange() == [.result(TaskResult(task: self.task, award: 1, outcome: .done([1])))])
        contractor.resultAcknowledged(AwardReference(task: self.task, award: 1))
        #expect(contractor.resendAfterCoordinatorChange().isEmpty)
    }

    @Test func saysWhichAwardsWouldWaitForASlot() {
        var contractor = Contractor(capacity: 1, canDo: { $0 == "w" })
        let second = TaskID(unchecked: "t/2")
        #expect(!contractor.wouldQueue(self.award()))  // a slot is free
        _ = contractor.awardReceived(self.award())
        #expect(!contractor.wouldQueue(self.award()))  // running: a duplicate, not queued again
        #expect(contractor.wouldQueue(self.award(task: second)))
        #expect(!contractor.wouldQueue(Award(task: second, award: 1, work: "x", input: [])))  // not its work
        _ = contractor.awardReceived(self.award(task: second))
        #expect(!contractor.wouldQueue(self.award(task: second)))  // queued already
        _ = contractor.workFinished(self.task, award: 1, outcome: .done([]))
        #expect(!contractor.wouldQueue(self.award()))  // finished
    }

    @Test func ignoresAFinishForAnAwardItDoesNotRun() {
        var contractor = Contractor(capacity: 1, canDo: { _ in true })
        #expect(contractor.workFinished(self.task, award: 1, outcome: .done([])).isEmpty)
    }
}

@Suite("Negotiation under silence")
struct NegotiationSilenceTests {
    @Test func silenceNeverFailsATaskOnlyDeclinesDo() {
        var policy = Negotiation.Policy()
        policy.maxRounds = 3
        let task = TaskID(unchecked: "t/9")
        let agent = AgentRef(id: AgentID(unchecked: "data-1"), incarnation: 1)
        var n = Negotiation(task: task, role: .data, work: "w", input: [], policy: policy)
        _ = n.start(candidates: [agent], at: .zero)
        var now = MonotonicTime.zero
        for _ in 0..<20 {
            now = now.adding(.seconds(3))
            _ = n.timeoutFired(at: now)  // the bid timeout passes with no bid
            now = now.adding(.seconds(1))
            _ = n.timeoutFired(at: now)  // the retry calls again
        }
        #expect(!n.isFinished)
        guard case .calling(let round, _, _, _) = n.state else {
            Issue.record("expected a call, got \(n.state)")
            return
        }
        #expect(round > 3)
        let awarded = n.bidReceived(Bid(task: task, round: round, freeSlots: 1), from: agent, at: now)
        #expect(awarded.contains { if case .award = $0 { true } else { false } })
    }
}
