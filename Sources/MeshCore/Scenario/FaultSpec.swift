/// A physical fault a scenario scripts: what happens, to whom, and when.
///
/// Process faults (`kill`, `pause`, `slow_join`) are injected by the supervisor; network faults
/// (`drop`, `duplicate`, `delay`, `cut`) by the coordinator's transport, on the messages between
/// the coordinator and the agents it matches (``NetworkFaults``). Faults change the physical
/// journal and the wall time, never the logical journal: the digest of a run with faults equals
/// the fault-free one's.
///
/// A fault starts `start` wall-clock seconds after the workflow starts, or, with `at_hour`,
/// once the run's simulated clock reaches that hour. Durations (`for`) are wall-clock seconds:
/// a network cut measured in simulated time would stop the clock it waits for.
///
/// ```yaml
/// faults:
///   - { kill: any-agent, start: 0.5, every: 2 }
///   - { pause: data, at_hour: 6, for: 2 }
///   - { drop: monitoring, rate: 0.3, for: 3 }                     # 30 % of its messages lost
///   - { duplicate: any, rate: 0.2, kinds: [result, award] }
///   - { delay: pipeline, ms: 40, jitter_ms: 40 }                  # jitter reorders
///   - { cut: compute-1, at_hour: 1, for: 2 }                      # nothing in or out for 2 s
///   - { slow_join: monitoring-1, for: 1.5 }                       # started 1.5 s late
/// ```
public struct FaultSpec: Sendable, Equatable, Codable {
    /// What the fault does.
    public enum Action: String, Sendable, Equatable, Codable, CaseIterable {
        /// SIGKILL the target process (the supervisor restarts it).
        case kill
        /// SIGSTOP the target for `for` seconds, then SIGCONT.
        case pause
        /// Lose a fraction (`rate`) of the target's messages.
        case drop
        /// Deliver a fraction (`rate`) of the target's messages twice.
        case duplicate
        /// Hold the target's messages back `ms` (± `jitter_ms`, which reorders them).
        case delay
        /// Lose every message to and from the target for `for` seconds.
        case cut
        /// Start the target's process `for` seconds after the others.
        case slowJoin = "slow_join"

        /// Whether the coordinator's transport injects it (else the supervisor does).
        public var isNetwork: Bool {
            switch self {
            case .drop, .duplicate, .delay, .cut: true
            case .kill, .pause, .slowJoin: false
            }
        }
    }

    /// What the fault does.
    public var action: Action
    /// Which process: `any-agent` (or `any`), a role, an agent id, or `coordinator` (kill only).
    public var target: String
    /// Wall-clock seconds after the workflow starts.
    public var start: Double
    /// The simulated hour from which the fault may start (nil: from the start of the run).
    public var atHour: Double?
    /// Repeat every this many seconds (nil: once; kill and pause only).
    public var every: Double?
    /// How long it lasts, in wall-clock seconds (pause, cut and slow_join need it; for drop,
    /// duplicate and delay nil means until the run ends).
    public var duration: Double?
    /// How many times a repeated fault happens at most (nil: until the run ends).
    public var times: Int?
    /// The fraction of matching messages affected (drop, duplicate, delay).
    public var rate: Double?
    /// A delay's length and spread, in milliseconds.
    public var milliseconds: Double?
    public var jitterMilliseconds: Double?
    /// The message kinds affected (nil: all), by their names in docs/WIRE.md (`result`, `award`, …).
    public var kinds: [String]?

    public init(
        action: Action, target: String, start: Double = 0, atHour: Double? = nil, every: Double? = nil,
        duration: Double? = nil, times: Int? = nil, rate: Double? = nil, milliseconds: Double? = nil,
        jitterMilliseconds: Double? = nil, kinds: [String]? = nil
    ) {
        self.action = action
        self.target = target
        self.start = start
        self.atHour = atHour
        self.every = every
        self.duration = duration
        self.times = times
        self.rate = rate
        self.milliseconds = milliseconds
        self.jitterMilliseconds = jitterMilliseconds
        self.kinds = kinds
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case kill, pause, drop, duplicate, delay, cut
        case slowJoin = "slow_join"
        case start, every, times, rate, kinds
        case atHour = "at_hour"
        case duration = "for"
        case milliseconds = "ms"
        case jitterMilliseconds = "jitter_ms"
    }

    private static func key(for action: Action) -> CodingKeys {
        switch action {
        case .kill: .kill
        case .pause: .pause
        case .drop: .drop
        case .duplicate: .duplicate
        case .delay: .delay
        case .cut: .cut
        case .slowJoin: .slowJoin
        }
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var found: [(Action, String)] = []
        for action in Action.allCases {
            if let target = try container.decodeIfPresent(String.self, forKey: Self.key(for: action)) { found.append((action, target)) }
        }
        guard found.count == 1, let (action, target) = found.first else {
            let names = Action.allCases.map { "'\($0.rawValue): TARGET'" }.joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "exactly one of \(names)"))
        }
        self.action = action
        self.target = target
        self.start = try container.decodeIfPresent(Double.self, forKey: .start) ?? 0
        self.atHour = try container.decodeIfPresent(Double.self, forKey: .atHour)
        self.every = try container.decodeIfPresent(Double.self, forKey: .every)
        self.duration = try container.decodeIfPresent(Double.self, forKey: .duration)
        self.times = try container.decodeIfPresent(Int.self, forKey: .times)
        self.rate = try container.decodeIfPresent(Double.self, forKey: .rate)
        self.milliseconds = try container.decodeIfPresent(Double.self, forKey: .milliseconds)
        self.jitterMilliseconds = try container.decodeIfPresent(Double.self, forKey: .jitterMilliseconds)
        self.kinds = try container.decodeIfPresent([String].self, forKey: .kinds)
        try self.validate(container)
    }

    private func validate(_ container: KeyedDecodingContainer<CodingKeys>) throws {
        func fail(_ key: CodingKeys, _ expected: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: expected)
        }
        let name = self.action.rawValue
        guard !self.target.isEmpty else { throw fail(Self.key(for: self.action), "a target: any-agent, a role or an agent id") }
        if self.target == "coordinator", self.action != .kill {
            throw fail(Self.key(for: self.action), "an agent target ('\(name)' cannot target the coordinator; only kill can)")
        }
        if let times = self.times, times < 1 { throw fail(.times, "a count >= 1") }
        guard self.start >= 0, self.start.isFinite else { throw fail(.start, "seconds >= 0") }
        if let hour = self.atHour, !(hour >= 0 && hour.isFinite) { throw fail(.atHour, "a simulated hour >= 0") }
        if let every = self.every, !(every > 0) { throw fail(.every, "seconds > 0") }
        if let duration = self.duration, !(duration > 0 && duration.isFinite) { throw fail(.duration, "seconds > 0") }
        if self.action.isNetwork || self.action == .slowJoin {
            if self.every != nil { throw fail(.every, "no 'every' on a \(name) (it lasts 'for' seconds)") }
            if self.times != nil { throw fail(.times, "no 'times' on a \(name)") }
        }
        switch self.action {
        case .pause, .cut, .slowJoin:
            if self.duration == nil { throw fail(.duration, "'for: SECONDS' (> 0) on a \(name)") }
        case .kill:
            if self.duration != nil { throw fail(.duration, "no 'for' on a kill") }
        case .drop, .duplicate, .delay:
            break
        }
        switch self.action {
        case .drop, .duplicate:
            guard let rate = self.rate, rate > 0, rate <= 1 else { throw fail(.rate, "'rate: FRACTION' (0 < rate <= 1) on a \(name)") }
        case .delay:
            if let rate = self.rate, !(rate > 0 && rate <= 1) { throw fail(.rate, "a fraction, 0 < rate <= 1") }
            guard let ms = self.milliseconds, ms > 0, ms <= 60_000 else { throw fail(.milliseconds, "'ms: MILLISECONDS' (0 < ms <= 60000) on a delay") }
            if let jitter = self.jitterMilliseconds, !(jitter >= 0 && jitter <= 60_000) { throw fail(.jitterMilliseconds, "0 to 60000 ms") }
        default:
            if self.rate != nil { throw fail(.rate, "no 'rate' on a \(name)") }
        }
        if self.action != .delay {
            if self.milliseconds != nil { throw fail(.milliseconds, "'ms' only on a delay") }
            if self.jitterMilliseconds != nil { throw fail(.jitterMilliseconds, "'jitter_ms' only on a delay") }
        }
        if let kinds = self.kinds {
            guard self.action.isNetwork else { throw fail(.kinds, "'kinds' only on drop, duplicate, delay and cut") }
            let known = MessageKind.allCases.map(\.name)
            for kind in kinds where !known.contains(kind) {
                throw fail(.kinds, "message kinds among \(known.joined(separator: ", ")), not '\(kind)'")
            }
        }
        if self.action == .slowJoin, self.target == "any-agent" || self.target == "any" {
            throw fail(.slowJoin, "a role or an agent id (a slow joiner is named)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.target, forKey: Self.key(for: self.action))
        try container.encode(self.start, forKey: .start)
        try container.encodeIfPresent(self.atHour, forKey: .atHour)
        try container.encodeIfPresent(self.every, forKey: .every)
        try container.encodeIfPresent(self.duration, forKey: .duration)
        try container.encodeIfPresent(self.times, forKey: .times)
        try container.encodeIfPresent(self.rate, forKey: .rate)
        try container.encodeIfPresent(self.milliseconds, forKey: .milliseconds)
        try container.encodeIfPresent(self.jitterMilliseconds, forKey: .jitterMilliseconds)
        try container.encodeIfPresent(self.kinds, forKey: .kinds)
    }

    /// Whether the fault applies to agent `id` (`any-agent`/`any`, the agent's role, or its id).
    public func targets(_ id: AgentID) -> Bool {
        switch self.target {
        case "coordinator": false
        case "any-agent", "any": true
        case id.rawValue: true
        default: Role(rawValue: self.target).map { id.rawValue.hasPrefix($0.rawValue + "-") } ?? false
        }
    }
}

extension MessageKind {
    /// The kind's name in scenarios and docs/WIRE.md (`callForProposals` is `call`).
    public var name: String {
        switch self {
        case .hello: "hello"
        case .welcome: "welcome"
        case .heartbeat: "heartbeat"
        case .evicted: "evicted"
        case .goodbye: "goodbye"
        case .ack: "ack"
        case .shutdown: "shutdown"
        case .callForProposals: "call"
        case .bid: "bid"
        case .decline: "decline"
        case .award: "award"
        case .accept: "accept"
        case .refuse: "refuse"
        case .result: "result"
        case .resultAck: "result_ack"
        case .blobRequest: "blob_request"
        case .blobChunk: "blob_chunk"
        case .blobMissing: "blob_missing"
        }
    }
}
