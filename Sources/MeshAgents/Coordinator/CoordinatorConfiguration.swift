public import MeshCore

/// How the coordinator behaves.
public struct CoordinatorConfiguration: Sendable {
    /// The run's id, sent in every welcome.
    public var runID: String
    /// This coordinator's incarnation (the runtime uses the wall clock at start).
    public var incarnation: UInt64
    /// The coordinator's OS process id and host (for the `processes` count).
    public var pid: UInt32
    /// The coordinator's host name.
    public var host: String
    /// Hello, heartbeat and death timing.
    public var liveness: LivenessConfiguration
    /// Reliable-delivery tuning.
    public var link: ReliableLink.Configuration
    /// Negotiation timeouts and limits.
    public var negotiation: Negotiation.Policy
    /// How many negotiations may be open at once; more wait their turn in order.
    public var maxInFlight: Int
    /// How often timers are checked.
    public var tickInterval: Duration
    /// How often progress is reported.
    public var progressInterval: Duration
    /// Roles whose agents must all be present before the workflow starts, with their counts.
    public var expectedAgents: [AgentID]
    /// Keep serving after the workflow finished (agents stay up, `meshwork up --hold`) until a
    /// graceful shutdown, instead of telling every agent the run is over.
    public var holdAfterFinish = false
    /// Pace the workflow by the wall clock (a scenario's `clock: wall`): a task whose simulated
    /// start lies ahead of the wall time elapsed since the workflow started waits until then, so
    /// arrivals come at the scenario's rate instead of as fast as the mesh can take them. The
    /// logical journal is the same either way.
    public var wallClockPacing = false

    public init(
        runID: String,
        incarnation: UInt64,
        pid: UInt32 = 0,
        host: String = "",
        liveness: LivenessConfiguration = LivenessConfiguration(),
        link: ReliableLink.Configuration = ReliableLink.Configuration(),
        negotiation: Negotiation.Policy = Negotiation.Policy(),
        maxInFlight: Int = 1024,
        tickInterval: Duration = .milliseconds(5),
        progressInterval: Duration = .milliseconds(500),
        expectedAgents: [AgentID] = []
    ) {
        self.runID = runID
        self.incarnation = incarnation
        self.pid = pid
        self.host = host
        self.liveness = liveness
        self.link = link
        self.negotiation = negotiation
        self.maxInFlight = maxInFlight
        self.tickInterval = tickInterval
        self.progressInterval = progressInterval
        self.expectedAgents = expectedAgents
    }
}

/// How far a run has come, reported periodically and at the end.
public struct RunProgress: Sendable, Equatable, Codable {
    /// Hand-offs committed to the logical journal.
    public var committedTasks: Int
    /// Tasks scheduled and not yet committed.
    public var pendingTasks: Int
    /// Agents admitted now.
    public var members: Int
    /// The simulated time of the last commit.
    public var simTime: SimTime
    /// Whether the workflow has started (every expected agent joined).
    public var started: Bool
    /// The services agents advertised (`pipeline-1.inference` → URL).
    public var services: [String: String] = [:]
}

/// What a finished run reports; the CLI adds wall time, restarts and the run directory.
public struct RunReport: Sendable, Equatable, Codable {
    /// The logical digest, `sha256:` + hex.
    public var digest: String
    /// Logical records journaled.
    public var records: UInt64
    /// Hand-offs committed (one per task).
    public var handoffs: Int
    /// Distinct tasks committed (less than `handoffs` would mean a task was applied twice).
    public var distinctTasks: Int
    /// Tasks that failed for good.
    public var failedTasks: Int
    /// Awards after the first of a task (refusals, timeouts, deaths).
    public var reawards: Int
    /// Results for fenced-off awards, ignored.
    public var staleResults: Int
    /// Messages rejected as malformed, misrouted or from unknown incarnations.
    public var rejectedMessages: Int
    /// Distinct OS processes that took part (the coordinator's included), as `host/pid`.
    public var processes: [String]
    /// Agents declared dead or replaced during the run.
    public var departures: Int
    /// The simulated time the run ended, in microseconds.
    public var simMicroseconds: UInt64
    /// The workflow's own audit of the outcome.
    public var audit: WorkflowAudit
}
