public import MeshCore

/// Who an agent process is and how it behaves on the wire.
public struct AgentConfiguration: Sendable {
    /// The agent's id, such as `data-1`.
    public var id: AgentID
    /// Its role.
    public var role: Role
    /// Tasks it runs at once.
    public var capacity: Int
    /// Its first incarnation (the runtime uses the wall clock at start, so a restarted process
    /// always has a larger one); bumped by one on every eviction.
    public var incarnation: UInt64
    /// The OS process id, reported in the hello (physical).
    public var pid: UInt32
    /// The host name, reported in the hello (physical).
    public var host: String
    /// Hello and heartbeat timing (the coordinator's welcome overrides heartbeat and deadline).
    public var liveness: LivenessConfiguration
    /// Reliable-delivery tuning.
    public var link: ReliableLink.Configuration
    /// How often timers are checked.
    public var tickInterval: Duration
    /// Services this agent offers (advertised in its hello), such as `inference` → a URL.
    public var services: [String: String]
    /// How ``Agent/fetchBlob(_:from:)`` fetches: chunk size, window, timeout, attempts.
    public var blobFetch = BlobFetch.Configuration()
    /// An award that must wait for a slot keeps an input of at least this many bytes in the
    /// agent's blob store, not in memory, until it starts (no effect without a store).
    public var spillInputBytes = 16 * 1024

    public init(
        id: AgentID,
        role: Role,
        capacity: Int = 64,
        incarnation: UInt64,
        pid: UInt32 = 0,
        host: String = "",
        liveness: LivenessConfiguration = LivenessConfiguration(),
        link: ReliableLink.Configuration = ReliableLink.Configuration(),
        tickInterval: Duration = .milliseconds(5),
        services: [String: String] = [:]
    ) {
        self.id = id
        self.role = role
        self.capacity = capacity
        self.incarnation = incarnation
        self.pid = pid
        self.host = host
        self.liveness = liveness
        self.link = link
        self.tickInterval = tickInterval
        self.services = services
    }
}
