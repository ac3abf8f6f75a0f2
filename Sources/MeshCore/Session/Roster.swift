/// The coordinator's registry of live agents, as a sans-I/O state machine.
///
/// It admits agents on hello (answering every hello with a welcome, so a lost welcome is
/// repaired by the agent's next hello), replaces an incarnation when a newer one of the same id
/// says hello (the process restarted), declares a member dead when nothing was heard from it
/// for the deadline, and asks unknown incarnations to rejoin (`evict`). It also times the
/// coordinator's own heartbeat broadcast.
public struct Roster: Sendable {
    /// One admitted agent incarnation.
    public struct Member: Sendable, Equatable {
        /// The agent.
        public var id: AgentID
        /// Its role.
        public var role: Role
        /// The incarnation admitted.
        public var incarnation: UInt64
        /// Tasks it runs at once.
        public var capacity: UInt32
        /// Its OS process id (physical).
        public var pid: UInt32
        /// Its host (physical).
        public var host: String
        /// When it was admitted.
        public var joinedAt: MonotonicTime
        /// When anything was last heard from it.
        public var lastHeard: MonotonicTime
        /// The services it advertised.
        public var services: [String: String] = [:]
    }

    /// Why a member left the roster.
    public enum Departure: String, Sendable, Equatable {
        /// A newer incarnation of the same id said hello.
        case restarted
        /// Nothing was heard from it for the deadline.
        case died
        /// It said goodbye.
        case left
    }

    /// What the coordinator must do.
    public enum Action: Sendable, Equatable {
        /// Send a welcome to this member.
        case welcome(Member)
        /// A new member is in (re-drive work waiting for its role).
        case joined(Member)
        /// A member is out (fence and re-award its work).
        case departed(Member, Departure)
        /// Tell this unknown incarnation to rejoin.
        case evict(AgentID, incarnation: UInt64)
        /// Broadcast the coordinator's heartbeat.
        case broadcastHeartbeat
    }

    private var configuration: LivenessConfiguration
    private var byID: [AgentID: Member] = [:]
    private var nextHeartbeatAt: MonotonicTime?

    /// Makes an empty roster with the given timing.
    public init(configuration: LivenessConfiguration = LivenessConfiguration()) {
        self.configuration = configuration
    }

    /// The timing in force (sent to agents in the welcome).
    public var liveness: LivenessConfiguration { self.configuration }

    /// Every member, by id.
    public var members: [Member] { self.byID.values.sorted { $0.id < $1.id } }

    /// The member with `id`, if admitted.
    public func member(_ id: AgentID) -> Member? { self.byID[id] }

    /// Whether `id` at `incarnation` is the admitted member.
    public func isCurrent(_ id: AgentID, incarnation: UInt64) -> Bool {
        self.byID[id]?.incarnation == incarnation
    }

    /// Every member's services, keyed `<agent id>.<service>`: the directory awardees receive.
    public var directory: [String: String] {
        var directory: [String: String] = [:]
        for member in self.byID.values {
            for (name, value) in member.services { directory["\(member.id).\(name)"] = value }
        }
        return directory
    }

    /// The members of `role`, by id.
    public func members(of role: Role) -> [Member] {
        self.byID.values.filter { $0.role == role }.sorted { $0.id < $1.id }
    }

    /// The next time ``tick(at:)`` has work to do.
    public var nextDeadline: MonotonicTime? {
        let earliestDeath = self.byID.values.map { $0.lastHeard.adding(self.configuration.deadline) }.min()
        switch (earliestDeath, self.nextHeartbeatAt) {
        case (nil, nil): return nil
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return min(a, b)
        }
    }

    /// Starts the heartbeat schedule.
    public mutating func start(at now: MonotonicTime) -> [Action] {
        self.nextHeartbeatAt = now.adding(self.configuration.heartbeatInterval)
        return [.broadcastHeartbeat]
    }

    /// An agent said hello.
    public mutating func helloReceived(
        _ hello: Hello,
        from id: AgentID,
        incarnation: UInt64,
        at now: MonotonicTime
    ) -> [Action] {
        let candidate = Member(
            id: id,
            role: hello.role,
            incarnation: incarnation,
            capacity: hello.capacity,
            pid: hello.pid,
            host: hello.host,
            joinedAt: now,
            lastHeard: now,
            services: hello.services
        )
        guard let existing = self.byID[id] else {
            self.byID[id] = candidate
            return [.welcome(candidate), .joined(candidate)]
        }
        if existing.incarnation == incarnation {
            self.byID[id]?.lastHeard = now
            return [.welcome(existing)]
        }
        if incarnation < existing.incarnation {
            return [.evict(id, incarnation: incarnation)]
        }
        self.byID[id] = candidate
        return [.departed(existing, .restarted), .welcome(candidate), .joined(candidate)]
    }

    /// Something other than a hello arrived from `id` at `incarnation`.
    ///
    /// Returns `.evict` when that incarnation is not a member (it was declared dead, or it never
    /// joined): it must rejoin before anything it sends counts.
    public mutating func heard(from id: AgentID, incarnation: UInt64, at now: MonotonicTime) -> [Action] {
        guard self.byID[id]?.incarnation == incarnation else { return [.evict(id, incarnation: incarnation)] }
        self.byID[id]?.lastHeard = now
        return []
    }

    /// `id` at `incarnation` said goodbye.
    public mutating func goodbyeReceived(from id: AgentID, incarnation: UInt64) -> [Action] {
        guard let member = self.byID[id], member.incarnation == incarnation else { return [] }
        self.byID[id] = nil
        return [.departed(member, .left)]
    }

    /// Declares `id` dead now, whatever its heartbeats say (its link became unreachable).
    public mutating func declareDead(_ id: AgentID, incarnation: UInt64) -> [Action] {
        guard let member = self.byID[id], member.incarnation == incarnation else { return [] }
        self.byID[id] = nil
        return [.departed(member, .died)]
    }

    /// Time passed: declare silent members dead and time the heartbeat.
    public mutating func tick(at now: MonotonicTime) -> [Action] {
        var actions: [Action] = []
        let dead = self.byID.values
            .filter { $0.lastHeard.adding(self.configuration.deadline) <= now }
            .sorted { $0.id < $1.id }
        for member in dead {
            self.byID[member.id] = nil
            actions.append(.departed(member, .died))
        }
        if let next = self.nextHeartbeatAt, next <= now {
            self.nextHeartbeatAt = now.adding(self.configuration.heartbeatInterval)
            actions.append(.broadcastHeartbeat)
        }
        return actions
    }
}
