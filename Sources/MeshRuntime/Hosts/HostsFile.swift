public import MeshCore

/// Where the processes of a mesh run when it spans several hosts: `meshwork up SCENARIO --hosts FILE`.
///
/// ```yaml
/// hosts:
///   - { name: a, address: 10.200.0.1, launch: ip netns exec mw-a }
///   - { name: b, address: 10.200.0.2, launch: ip netns exec mw-b }
///   - { name: c, address: 10.200.0.3, launch: ssh c.example.net, meshwork: /usr/local/bin/meshwork }
/// coordinator: a          # the host whose address the mesh binds (tcp://ADDRESS:PORT)
/// port: 0                 # 0: any free port pair
/// placement:              # a role or an agent id → a host; the rest go to the coordinator's host
///   compute: b
///   compute-2: c
///   pipeline: c
/// ```
///
/// A process is started as `LAUNCH… [env MESHWORK_INFERENCE_HOST=ADDRESS] MESHWORK ARGS…`: the launch
/// prefix is split on spaces (or given as a list), `meshwork` defaults to this binary's own path.
/// A pipeline agent's inference API listens on its host's address so that agents on other hosts
/// reach it. Decoded through ``ScenarioLoader/decode(_:path:)``: errors name the file, line and field.
public struct HostsFile: Decodable, Sendable, Equatable {
    /// One machine (or network namespace) of the mesh.
    public struct Host: Decodable, Sendable, Equatable {
        /// The name placement refers to.
        public var name: String
        /// The address other hosts reach it at (an IPv4 address or a DNS name; IPv6 in brackets).
        public var address: String
        /// The command that runs a program there (`ip netns exec NS`, `ssh HOST`); empty: here.
        public var launch: [String]
        /// The path of the `meshwork` binary there (default: the supervisor's own binary).
        public var meshwork: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case name, address, launch, meshwork }

        public init(name: String, address: String, launch: [String] = [], meshwork: String? = nil) {
            self.name = name
            self.address = address
            self.launch = launch
            self.meshwork = meshwork
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try container.decode(String.self, forKey: .name)
            guard HostsFile.isName(self.name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .name, in: container, debugDescription: "a host name of 1-32 letters, digits, '-', '_' or '.'")
            }
            self.address = try container.decode(String.self, forKey: .address)
            guard HostsFile.isAddress(self.address) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .address, in: container,
                    debugDescription: "an IPv4 address, a DNS name or a bracketed IPv6 address (no scheme, no port)")
            }
            if let words = try? container.decodeIfPresent([String].self, forKey: .launch) {
                self.launch = words
            } else {
                let line = try container.decodeIfPresent(String.self, forKey: .launch) ?? ""
                self.launch = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            }
            guard self.launch.allSatisfy({ !$0.isEmpty }) else {
                throw DecodingError.dataCorruptedError(forKey: .launch, in: container, debugDescription: "no empty words")
            }
            self.meshwork = try container.decodeIfPresent(String.self, forKey: .meshwork)
            if let path = self.meshwork, !path.hasPrefix("/") {
                throw DecodingError.dataCorruptedError(forKey: .meshwork, in: container, debugDescription: "an absolute path")
            }
        }
    }

    /// The hosts, each named once.
    public var hosts: [Host]
    /// The name of the host that runs the coordinator (and the mesh's forwarder).
    public var coordinator: String
    /// The base port the coordinator binds (the XSUB's; the XPUB takes PORT+1); 0: any free pair.
    public var port: Int
    /// A role or an agent id → the name of the host its processes run on; an agent id wins over its role.
    public var placement: [String: String]

    enum CodingKeys: String, CodingKey, CaseIterable { case hosts, coordinator, port, placement }

    public init(hosts: [Host], coordinator: String, port: Int = 0, placement: [String: String] = [:]) {
        self.hosts = hosts
        self.coordinator = coordinator
        self.port = port
        self.placement = placement
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.hosts = try container.decode([Host].self, forKey: .hosts)
        guard !self.hosts.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .hosts, in: container, debugDescription: "at least one host")
        }
        let names = self.hosts.map(\.name)
        guard Set(names).count == names.count else {
            throw DecodingError.dataCorruptedError(forKey: .hosts, in: container, debugDescription: "each host name once")
        }
        self.coordinator = try container.decode(String.self, forKey: .coordinator)
        guard names.contains(self.coordinator) else {
            throw DecodingError.dataCorruptedError(
                forKey: .coordinator, in: container, debugDescription: "one of the hosts (\(names.joined(separator: ", ")))")
        }
        self.port = try container.decodeIfPresent(Int.self, forKey: .port) ?? 0
        guard (0...65_534).contains(self.port) else {
            throw DecodingError.dataCorruptedError(forKey: .port, in: container, debugDescription: "0...65534 (PORT+1 is used too)")
        }
        self.placement = try container.decodeIfPresent([String: String].self, forKey: .placement) ?? [:]
        for (key, host) in self.placement.sorted(by: { $0.key < $1.key }) {
            guard names.contains(host) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .placement, in: container,
                    debugDescription: "a host for \(key) among \(names.joined(separator: ", ")) ('\(host)' is not one)")
            }
            guard Role(rawValue: key).map({ $0 != .coordinator }) ?? (AgentID(key) != nil) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .placement, in: container, debugDescription: "a role or an agent id as key ('\(key)' is neither)")
            }
        }
    }

    /// The coordinator's host.
    public var coordinatorHost: Host { self.host(named: self.coordinator)! }

    /// The address the coordinator binds and agents connect to (port 0 until the forwarder bound one).
    public var endpoint: String { "tcp://\(self.coordinatorHost.address):\(self.port)" }

    /// The host named `name`.
    public func host(named name: String) -> Host? { self.hosts.first { $0.name == name } }

    /// The host an agent runs on: its id's placement, else its role's, else the coordinator's host.
    public func host(for id: AgentID, role: Role) -> Host {
        let name = self.placement[id.rawValue] ?? self.placement[role.rawValue] ?? self.coordinator
        return self.host(named: name) ?? self.coordinatorHost
    }

    /// Checks that every agent id the placement names is one of `scenario`'s agents.
    ///
    /// Throws ``ScenarioError`` naming `file` and the id.
    public func check(against scenario: Scenario, file: String) throws(ScenarioError) {
        let ids = Set(scenario.agentIDs.map(\.id.rawValue))
        for key in self.placement.keys.sorted() where Role(rawValue: key) == nil && !ids.contains(key) {
            let known = scenario.agentIDs.map(\.id.rawValue).joined(separator: ", ")
            throw ScenarioError(.invalid, file: file, field: "placement", expected: "an agent of the scenario (\(key) is not one of \(known))")
        }
    }

    /// The command line that starts `meshwork arguments…` on `host`, with `environment` set there.
    public func commandLine(
        on host: Host, executable: String, arguments: [String], environment: [String: String] = [:]
    ) -> [String] {
        let variables = environment.keys.sorted().map { "\($0)=\(environment[$0]!)" }
        let program = [host.meshwork ?? executable] + arguments
        return host.launch + (variables.isEmpty ? [] : ["env"] + variables) + program
    }

    static func isName(_ text: String) -> Bool {
        (1...32).contains(text.utf8.count)
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    static func isAddress(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        if text.hasPrefix("[") { return text.hasSuffix("]") && text.count > 2 }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-.".unicodeScalars.contains($0)) }
    }
}
