/// A scenario file, as Codable types (the YAML loader lives in MeshRuntime).
///
/// ```yaml
/// name: relay
/// seed: 42
/// clock: simulated
/// workflow:
///   relay: { tokens: 10000, interarrival_us: 50, duration_us: [1000, 5000] }
/// agents: { data: 2 }            # instances per role; every role defaults to 1
/// supervisor: { max_restarts: 10, within_seconds: 10 }
/// faults:
///   - { kill: any-agent, start: 0.5, every: 2 }
///   - { pause: any-agent, start: 1, for: 5 }
///   - { kill: coordinator, start: 2, every: 3, times: 2 }
/// ```
public struct Scenario: Sendable, Equatable, Codable {
    /// The scenario's name (for run ids and summaries).
    public var name: String
    /// The seed of every random stream.
    public var seed: UInt64
    /// Simulated or wall clock.
    public var clock: ClockMode
    /// What the mesh does.
    public var workflow: WorkflowSpec
    /// Instances per role (roles not listed run one instance).
    public var agents: [String: Int]
    /// The supervisor's restart intensity.
    public var supervisor: SupervisorSpec
    /// Physical faults the supervisor injects while the run goes on.
    public var faults: [FaultSpec]
    /// A lifecycle workflow's files, read and decoded (the scenario loader fills it in; not part
    /// of the file's own fields).
    public var lifecycle: LifecycleSpec?

    /// How time is kept.
    public enum ClockMode: String, Sendable, Equatable, Codable {
        /// The coordinator's simulated clock (the default): reproducible and as fast as the work allows.
        case simulated
        /// Wall-clock pacing.
        case wall
    }

    public init(
        name: String,
        seed: UInt64,
        clock: ClockMode = .simulated,
        workflow: WorkflowSpec,
        agents: [String: Int] = [:],
        supervisor: SupervisorSpec = SupervisorSpec(),
        faults: [FaultSpec] = []
    ) {
        self.name = name
        self.seed = seed
        self.clock = clock
        self.workflow = workflow
        self.agents = agents
        self.supervisor = supervisor
        self.faults = faults
    }

    /// How many hand-offs a complete run commits, when that is known in advance (the relay), else nil.
    public var expectedHandoffs: Int? {
        switch self.workflow {
        case .relay(let spec): spec.tokens * RelayWorkflow.stages.count
        case .lifecycle: nil
        }
    }

    /// How many instances of `role` the scenario runs.
    public func instances(of role: Role) -> Int {
        self.agents[role.rawValue] ?? 1
    }

    /// Every agent the scenario runs, in start order: roles in ``Role/agentRoles`` order, then instance number.
    public var agentIDs: [(id: AgentID, role: Role)] {
        Role.agentRoles.flatMap { role in
            (1...max(1, self.instances(of: role))).map { (AgentID(role: role, instance: $0), role) }
        }
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, seed, clock, workflow, agents, supervisor, faults
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        guard !self.name.isEmpty, self.name.utf8.count <= 64,
            self.name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") })
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .name, in: container, debugDescription: "a name of 1-64 printable characters without spaces or '/'")
        }
        self.seed = try container.decode(UInt64.self, forKey: .seed)
        self.clock = try container.decodeIfPresent(ClockMode.self, forKey: .clock) ?? .simulated
        self.workflow = try container.decode(WorkflowSpec.self, forKey: .workflow)
        self.agents = try container.decodeIfPresent([String: Int].self, forKey: .agents) ?? [:]
        for (role, count) in self.agents {
            guard let parsed = Role(rawValue: role), parsed != .coordinator else {
                let known = Role.agentRoles.map(\.rawValue).joined(separator: ", ")
                throw DecodingError.dataCorruptedError(
                    forKey: .agents, in: container, debugDescription: "a role (\(known)), not '\(role)'")
            }
            guard (1...64).contains(count) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .agents, in: container, debugDescription: "1 to 64 instances of \(role), not \(count)")
            }
        }
        self.supervisor = try container.decodeIfPresent(SupervisorSpec.self, forKey: .supervisor) ?? SupervisorSpec()
        self.faults = try container.decodeIfPresent([FaultSpec].self, forKey: .faults) ?? []
    }
}

/// What the mesh does in a scenario: one workflow.
public enum WorkflowSpec: Sendable, Equatable, Codable {
    /// The relay throughput workflow.
    case relay(RelaySpec)
    /// The ML lifecycle: use cases from intake to an evaluated, registered model.
    case lifecycle(LifecycleScenario)

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case relay, lifecycle
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch (container.contains(.relay), container.contains(.lifecycle)) {
        case (true, false): self = .relay(try container.decode(RelaySpec.self, forKey: .relay))
        case (false, true): self = .lifecycle(try container.decode(LifecycleScenario.self, forKey: .lifecycle))
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "exactly one workflow: relay or lifecycle"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .relay(let spec): try container.encode(spec, forKey: .relay)
        case .lifecycle(let spec): try container.encode(spec, forKey: .lifecycle)
        }
    }
}

/// A lifecycle workflow as the scenario file states it: the files to read and the policies.
///
/// ```yaml
/// workflow:
///   lifecycle:
///     use_cases: [agents/usecases/digits.yaml]   # paths relative to the working directory
///     catalog: agents/catalog.yaml
///     zoo: agents/zoo.yaml
///     human: { delay_minutes: 90 }
///     search: { rung_epochs: [10, 30, 60] }
/// ```
public struct LifecycleScenario: Sendable, Equatable, Codable {
    /// Use case template files.
    public var useCases: [String]
    /// The data catalog file.
    public var catalog: String
    /// The model zoo file.
    public var zoo: String
    /// The scripted human.
    public var human: HumanPolicy
    /// The model search.
    public var search: SearchSettings
    /// Serving (quantize, deploy, test, promote), when the scenario goes that far.
    public var serving: ServingSettings?
    /// Monitoring and the feedback loop (needs `serving`).
    public var monitoring: MonitoringSettings?
    /// Scripted data-source outages.
    public var outages: [SourceOutage]?

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case catalog, zoo, human, search, serving, monitoring, outages
        case useCases = "use_cases"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.useCases = try container.decode([String].self, forKey: .useCases)
        guard !self.useCases.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .useCases, in: container, debugDescription: "at least one use case file")
        }
        self.catalog = try container.decodeIfPresent(String.self, forKey: .catalog) ?? "agents/catalog.yaml"
        self.zoo = try container.decodeIfPresent(String.self, forKey: .zoo) ?? "agents/zoo.yaml"
        self.human = try container.decodeIfPresent(HumanPolicy.self, forKey: .human) ?? HumanPolicy()
        self.search = try container.decodeIfPresent(SearchSettings.self, forKey: .search) ?? SearchSettings()
        self.serving = try container.decodeIfPresent(ServingSettings.self, forKey: .serving)
        self.monitoring = try container.decodeIfPresent(MonitoringSettings.self, forKey: .monitoring)
        self.outages = try container.decodeIfPresent([SourceOutage].self, forKey: .outages)
        if self.monitoring != nil && self.serving == nil {
            throw DecodingError.dataCorruptedError(
                forKey: .monitoring, in: container, debugDescription: "monitoring watches a served model: add serving")
        }
    }
}

/// The relay workflow's parameters.
public struct RelaySpec: Sendable, Equatable, Codable {
    /// How many tokens.
    public var tokens: Int
    /// Simulated microseconds between token arrivals.
    public var interarrivalMicroseconds: UInt64
    /// Modelled stage durations, uniform in this range (microseconds).
    public var durationMicroseconds: ClosedRange<Int>

    public init(tokens: Int = 10_000, interarrivalMicroseconds: UInt64 = 50, durationMicroseconds: ClosedRange<Int> = 1_000...5_000) {
        self.tokens = tokens
        self.interarrivalMicroseconds = interarrivalMicroseconds
        self.durationMicroseconds = durationMicroseconds
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case tokens
        case interarrivalMicroseconds = "interarrival_us"
        case durationMicroseconds = "duration_us"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.tokens = try container.decodeIfPresent(Int.self, forKey: .tokens) ?? 10_000
        guard (0...10_000_000).contains(self.tokens) else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: container, debugDescription: "0 to 10000000 tokens")
        }
        self.interarrivalMicroseconds = try container.decodeIfPresent(UInt64.self, forKey: .interarrivalMicroseconds) ?? 50
        let range = try container.decodeIfPresent([Int].self, forKey: .durationMicroseconds) ?? [1_000, 5_000]
        guard range.count == 2, range[0] >= 0, range[0] <= range[1] else {
            throw DecodingError.dataCorruptedError(
                forKey: .durationMicroseconds, in: container, debugDescription: "[min, max] with 0 <= min <= max")
        }
        self.durationMicroseconds = range[0]...range[1]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.tokens, forKey: .tokens)
        try container.encode(self.interarrivalMicroseconds, forKey: .interarrivalMicroseconds)
        try container.encode([self.durationMicroseconds.lowerBound, self.durationMicroseconds.upperBound], forKey: .durationMicroseconds)
    }
}

/// The supervisor's restart intensity.
public struct SupervisorSpec: Sendable, Equatable, Codable {
    /// Restarts allowed within the window.
    public var maxRestarts: Int
    /// The window, in seconds.
    public var withinSeconds: Double

    public init(maxRestarts: Int = 10, withinSeconds: Double = 10) {
        self.maxRestarts = maxRestarts
        self.withinSeconds = withinSeconds
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case maxRestarts = "max_restarts"
        case withinSeconds = "within_seconds"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.maxRestarts = try container.decodeIfPresent(Int.self, forKey: .maxRestarts) ?? 10
        self.withinSeconds = try container.decodeIfPresent(Double.self, forKey: .withinSeconds) ?? 10
        guard self.maxRestarts >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .maxRestarts, in: container, debugDescription: "a count >= 0")
        }
        guard self.withinSeconds > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .withinSeconds, in: container, debugDescription: "seconds > 0")
        }
    }
}

/// A coding key for any string, to list the keys a mapping really has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws a `DecodingError` at the first key of the mapping that `Keys` does not name, so a
    /// misspelt field is reported rather than silently ignored.
    public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
            let expected = Keys.allCases.map(\.stringValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: self.codingPath + [key], debugDescription: "unknown field '\(key.stringValue)' (expected one of: \(expected))"))
        }
    }
}
