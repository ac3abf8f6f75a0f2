/// The agent's side of its session with the coordinator, as a sans-I/O state machine.
///
/// An agent repeats `hello` (with backoff) until a `welcome` arrives: the welcome travelled
/// coordinator → forwarder → agent, and it answers a hello that went the other way, so its
/// arrival proves both subscriptions are in place (a REQ/REP handshake would not: subscriptions
/// travel on their own connections). Once joined, the agent heartbeats and watches the
/// coordinator's messages; silence past the deadline means the coordinator is gone, and the
/// agent starts joining again. An `evicted` notice means the coordinator declared this
/// incarnation dead: the owner takes a new incarnation and joins again.
public struct JoinSession: Sendable {
    /// Where the session is.
    public enum State: Sendable, Equatable {
        /// Not started.
        case idle
        /// Sending hellos, waiting for a welcome.
        case joining(nextHelloAt: MonotonicTime, interval: Duration)
        /// Welcomed by the coordinator's `coordinatorIncarnation`.
        case joined(coordinatorIncarnation: UInt64, lastHeard: MonotonicTime, nextHeartbeatAt: MonotonicTime)
        /// Stopped for good.
        case stopped
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Publish a hello to the coordinator.
        case sendHello
        /// Publish a heartbeat to the coordinator (piggybacking the link's ack).
        case sendHeartbeat(coordinatorIncarnation: UInt64)
        /// The session is established with this coordinator incarnation (make a link to it).
        case joined(coordinatorIncarnation: UInt64, welcome: Welcome)
        /// The coordinator incarnation the agent was joined to is gone (drop the link; joining again).
        case lostCoordinator(coordinatorIncarnation: UInt64)
    }

    /// Where the session is.
    public private(set) var state: State = .idle
    private var configuration: LivenessConfiguration

    /// Makes a session with the given timing (the welcome may later replace heartbeat and deadline).
    public init(configuration: LivenessConfiguration = LivenessConfiguration()) {
        self.configuration = configuration
    }

    /// The next time ``tick(at:)`` has work to do.
    public var nextDeadline: MonotonicTime? {
        switch self.state {
        case .idle, .stopped: nil
        case .joining(let next, _): next
        case .joined(_, let lastHeard, let nextHeartbeat):
            min(nextHeartbeat, lastHeard.adding(self.configuration.deadline))
        }
    }

    /// Starts joining.
    public mutating func start(at now: MonotonicTime) -> [Action] {
        guard case .idle = self.state else { return [] }
        return self.beginJoining(at: now)
    }

    /// A welcome arrived from coordinator incarnation `incarnation`.
    public mutating func welcomeReceived(_ welcome: Welcome, from incarnation: UInt64, at now: MonotonicTime) -> [Action] {
        switch self.state {
        case .idle, .stopped:
            return []
        case .joined(let current, _, _) where current == incarnation:
            self.heard(from: incarnation, at: now)
            return []
        case .joined(let current, _, _):
            self.adopt(welcome)
            self.state = .joined(coordinatorIncarnation: incarnation, lastHeard: now, nextHeartbeatAt: now)
            return [.lostCoordinator(coordinatorIncarnation: current), .joined(coordinatorIncarnation: incarnation, welcome: welcome)]
        case .joining:
            self.adopt(welcome)
            self.state = .joined(
                coordinatorIncarnation: incarnation,
                lastHeard: now,
                nextHeartbeatAt: now.adding(self.configuration.heartbeatInterval)
            )
            return [.joined(coordinatorIncarnation: incarnation, welcome: welcome)]
        }
    }

    /// Any message from the coordinator arrived; it proves the coordinator is alive.
    ///
    /// A message from another coordinator incarnation than the one joined means the coordinator
    /// restarted: the session starts joining again.
    public mutating func heard(from incarnation: UInt64, at now: MonotonicTime) {
        guard case .joined(let current, _, let nextHeartbeat) = self.state, current == incarnation else { return }
        self.state = .joined(coordinatorIncarnation: current, lastHeard: now, nextHeartbeatAt: nextHeartbeat)
    }

    /// The coordinator no longer knows this incarnation. The owner takes a new incarnation; the
    /// session starts joining again.
    public mutating func evicted(at now: MonotonicTime) -> [Action] {
        switch self.state {
        case .idle, .stopped:
            return []
        case .joining:
            return []
        case .joined(let current, _, _):
            return [.lostCoordinator(coordinatorIncarnation: current)] + self.beginJoining(at: now)
        }
    }

    /// Time passed: repeat a hello, send a heartbeat, or declare the coordinator lost.
    public mutating func tick(at now: MonotonicTime) -> [Action] {
        switch self.state {
        case .idle, .stopped:
            return []
        case .joining(let next, let interval):
            guard next <= now else { return [] }
            let longer = min(interval * 2, self.configuration.maxHelloInterval)
            self.state = .joining(nextHelloAt: now.adding(longer), interval: longer)
            return [.sendHello]
        case .joined(let current, let lastHeard, let nextHeartbeat):
            if lastHeard.adding(self.configuration.deadline) <= now {
                return [.lostCoordinator(coordinatorIncarnation: current)] + self.beginJoining(at: now)
            }
            guard nextHeartbeat <= now else { return [] }
            self.state = .joined(
                coordinatorIncarnation: current,
                lastHeard: lastHeard,
                nextHeartbeatAt: now.adding(self.configuration.heartbeatInterval)
            )
            return [.sendHeartbeat(coordinatorIncarnation: current)]
        }
    }

    /// Stops for good (the process is shutting down).
    public mutating func stop() {
        self.state = .stopped
    }

    private mutating func beginJoining(at now: MonotonicTime) -> [Action] {
        let interval = self.configuration.helloInterval
        self.state = .joining(nextHelloAt: now.adding(interval), interval: interval)
        return [.sendHello]
    }

    private mutating func adopt(_ welcome: Welcome) {
        self.configuration.heartbeatInterval = .milliseconds(Int64(welcome.heartbeatMilliseconds))
        self.configuration.deadline = .milliseconds(Int64(welcome.deadlineMilliseconds))
    }
}
