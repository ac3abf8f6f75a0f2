import MeshCore
import Testing

@Suite("Join session (agent side)")
struct JoinSessionTests {
    let welcome = LivenessConfiguration().welcome(runID: "run-1")

    @Test func repeatsHelloWithBackoffUntilWelcomed() {
        var session = JoinSession()
        var now = MonotonicTime.zero
        #expect(session.start(at: now) == [.sendHello])
        var gaps: [Int64] = []
        var last = now
        for _ in 0..<8 {
            now = session.nextDeadline!
            #expect(session.tick(at: now) == [.sendHello])
            gaps.append(Int64(now.nanoseconds - last.nanoseconds) / 1_000_000)
            last = now
        }
        #expect(gaps == [50, 100, 200, 400, 500, 500, 500, 500])
        let actions = session.welcomeReceived(self.welcome, from: 9, at: now)
        #expect(actions == [.joined(coordinatorIncarnation: 9, welcome: self.welcome)])
    }

    @Test func heartbeatsWhileJoinedAndDetectsASilentCoordinator() {
        var session = JoinSession()
        _ = session.start(at: .zero)
        _ = session.welcomeReceived(self.welcome, from: 9, at: .zero)
        var now = MonotonicTime.zero.adding(.milliseconds(200))
        #expect(session.tick(at: now) == [.sendHeartbeat(coordinatorIncarnation: 9)])
        session.heard(from: 9, at: now)
        now = now.adding(.milliseconds(1499))
        #expect(!session.tick(at: now).contains(.lostCoordinator(coordinatorIncarnation: 9)))
        now = now.adding(.milliseconds(1))
        #expect(session.tick(at: now) == [.lostCoordinator(coordinatorIncarnation: 9), .sendHello])
        guard case .joining = session.state else {
            Issue.record("expected joining, got \(session.state)")
            return
        }
    }

    @Test func messagesFromAnotherCoordinatorIncarnationDoNotKeepItAlive() {
        var session = JoinSession()
        _ = session.start(at: .zero)
        _ = session.welcomeReceived(self.welcome, from: 9, at: .zero)
        session.heard(from: 8, at: .zero.adding(.milliseconds(1400)))
        #expect(session.tick(at: .zero.adding(.milliseconds(1500))).first == .lostCoordinator(coordinatorIncarnation: 9))
    }

    @Test func evictionMeansJoinAgain() {
        var session = JoinSession()
        _ = session.start(at: .zero)
        _ = session.welcomeReceived(self.welcome, from: 9, at: .zero)
        #expect(session.evicted(at: .zero) == [.lostCoordinator(coordinatorIncarnation: 9), .sendHello])
        #expect(session.welcomeReceived(self.welcome, from: 9, at: .zero) == [.joined(coordinatorIncarnation: 9, welcome: self.welcome)])
    }

    @Test func aWelcomeFromARestartedCoordinatorSwitchesToIt() {
        var session = JoinSession()
        _ = session.start(at: .zero)
        _ = session.welcomeReceived(self.welcome, from: 9, at: .zero)
        let actions = session.welcomeReceived(self.welcome, from: 10, at: .zero)
        #expect(actions == [.lostCoordinator(coordinatorIncarnation: 9), .joined(coordinatorIncarnation: 10, welcome: self.welcome)])
        #expect(session.welcomeReceived(self.welcome, from: 10, at: .zero).isEmpty)
    }

    @Test func adoptsTheTimingOfTheWelcome() {
        var liveness = LivenessConfiguration()
        liveness.heartbeatInterval = .milliseconds(50)
        liveness.deadline = .milliseconds(300)
        var session = JoinSession()
        _ = session.start(at: .zero)
        _ = session.welcomeReceived(liveness.welcome(runID: "r"), from: 1, at: .zero)
        #expect(session.nextDeadline == .zero.adding(.milliseconds(50)))
        #expect(session.tick(at: .zero.adding(.milliseconds(300))).first == .lostCoordinator(coordinatorIncarnation: 1))
    }

    @Test func stoppedSessionsDoNothing() {
        var session = JoinSession()
        session.stop()
        #expect(session.start(at: .zero).isEmpty)
        #expect(session.tick(at: .zero.adding(.seconds(10))).isEmpty)
        #expect(session.nextDeadline == nil)
    }
}

@Suite("Roster (coordinator side)")
struct RosterTests {
    let data1 = AgentID(unchecked: "data-1")
    let hello = Hello(role: .data, capacity: 4, pid: 100, host: "h")

    @Test func admitsAndWelcomesANewAgent() {
        var roster = Roster()
        let actions = roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero)
        guard case .welcome(let member) = actions.first, case .joined = actions.last, actions.count == 2 else {
            Issue.record("unexpected \(actions)")
            return
        }
        #expect(member.id == self.data1 && member.incarnation == 5 && member.role == .data)
        #expect(roster.members(of: .data).map(\.id) == [self.data1])
        #expect(roster.members(of: .model).isEmpty)
    }

    @Test func answersARepeatedHelloWithAnotherWelcomeOnly() {
        var roster = Roster()
        _ = roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero)
        let actions = roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero)
        #expect(actions.count == 1)
        if case .welcome = actions[0] {} else { Issue.record("expected a welcome, got \(actions)") }
    }

    @Test func aNewerIncarnationReplacesTheOldOne() {
        var roster = Roster()
        _ = roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero)
        let actions = roster.helloReceived(self.hello, from: self.data1, incarnation: 6, at: .zero)
        guard case .departed(let old, .restarted) = actions.first else {
            Issue.record("expected the old incarnation to depart, got \(actions)")
            return
        }
        #expect(old.incarnation == 5)
        #expect(roster.isCurrent(self.data1, incarnation: 6))
    }

    @Test func anOlderIncarnationIsEvicted() {
        var roster = Roster()
        _ = roster.helloReceived(self.hello, from: self.data1, incarnation: 6, at: .zero)
        #expect(roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero) == [.evict(self.data1, incarnation: 5)])
        #expect(roster.isCurrent(self.data1, incarnation: 6))
    }

    @Test func unknownSendersAreEvicted() {
        var roster = Roster()
        #expect(roster.heard(from: self.data1, incarnation: 1, at: .zero) == [.evict(self.data1, incarnation: 1)])
    }

    @Test func silentMembersDieAtTheDeadline() {
        var roster = Roster()
        _ = roster.start(at: .zero)
        _ = roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero)
        _ = roster.heard(from: self.data1, incarnation: 5, at: .zero.adding(.milliseconds(1000)))
        #expect(!roster.tick(at: .zero.adding(.milliseconds(2499))).contains { if case .departed = $0 { true } else { false } })
        let actions = roster.tick(at: .zero.adding(.milliseconds(2500)))
        #expect(actions.contains { if case .departed(_, .died) = $0 { true } else { false } })
        #expect(roster.members.isEmpty)
        #expect(roster.heard(from: self.data1, incarnation: 5, at: .zero) == [.evict(self.data1, incarnation: 5)])
    }

    @Test func goodbyeRemovesAMember() {
        var roster = Roster()
        _ = roster.helloReceived(self.hello, from: self.data1, incarnation: 5, at: .zero)
        #expect(roster.goodbyeReceived(from: self.data1, incarnation: 4).isEmpty)
        #expect(roster.goodbyeReceived(from: self.data1, incarnation: 5).count == 1)
        #expect(roster.members.isEmpty)
    }

    @Test func broadcastsHeartbeatsOnSchedule() {
        var roster = Roster()
        #expect(roster.start(at: .zero) == [.broadcastHeartbeat])
        #expect(roster.tick(at: .zero.adding(.milliseconds(199))).isEmpty)
        #expect(roster.tick(at: .zero.adding(.milliseconds(200))) == [.broadcastHeartbeat])
    }
}

@Suite("Restart budget")
struct RestartBudgetTests {
    @Test func allowsAtMostNRestartsWithinTheWindow() {
        var budget = RestartBudget(maxRestarts: 3, window: .seconds(10))
        var granted = budget.requestRestart(at: .zero)
        #expect(granted)
        granted = budget.requestRestart(at: .zero.adding(.seconds(1)))
        #expect(granted)
        granted = budget.requestRestart(at: .zero.adding(.seconds(2)))
        #expect(granted)
        granted = budget.requestRestart(at: .zero.adding(.seconds(3)))
        #expect(!granted)
        granted = budget.requestRestart(at: .zero.adding(.seconds(10)))  // the first one left the window
        #expect(granted)
        #expect(budget.recentRestarts == 3)
    }

    @Test func zeroMeansNoRestarts() {
        var budget = RestartBudget(maxRestarts: 0, window: .seconds(1))
        let granted = budget.requestRestart(at: .zero)
        #expect(!granted)
    }
}
