import ArgumentParser
import Logging
import MeshCore
import MeshRuntime

/// `meshwork agent --role ROLE --connect ENDPOINT`: one agent as this process.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run one agent in this process and join the mesh at ENDPOINT (what `up` starts per agent)."
    )

    @Option(name: .long, help: "The role: usecase, data, model, pipeline, monitoring, compute, oversight.")
    var role: String

    @Option(name: .long, help: "The mesh's address, such as ipc:///tmp/m/mesh or tcp://10.0.0.1:5555.")
    var connect: String

    @Option(name: .long, help: "The agent's id (default: ROLE-1).")
    var id: String?

    @Option(name: .long, help: "Tasks this agent runs at once.")
    var capacity = 64

    @Option(name: .long, help: "A directory of this agent's own that outlives the process (a pipeline agent keeps its deployed models there and serves them again after a restart).")
    var state: String?

    @Option(name: .long, help: "The agent's blob cache directory (default: a fresh one under the system's temporary directory, removed at exit).")
    var cache: String?

    @Option(name: .long, help: "This agent's secret key file (meshwork keys generate); required with tcp://.")
    var secretKey: String?

    @Option(name: .long, help: "The coordinator's public key, or its .pub file; required with tcp://.")
    var serverKey: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .info)
        try await CommandFailure.guarding {
            guard let role = Role(rawValue: self.role), role != .coordinator else {
                let roles = Role.agentRoles.map(\.rawValue).joined(separator: ", ")
                throw RuntimeError(.usage, "--role \(self.role): not an agent role (\(roles))")
            }
            let id: AgentID
            if let text = self.id {
                guard let parsed = AgentID(text) else {
                    throw RuntimeError(.usage, "--id \(text): ids are 1-64 letters, digits, '-', '_' or '.'")
                }
                id = parsed
            } else {
                id = AgentID(role: role, instance: 1)
            }
            guard (1...65_536).contains(self.capacity) else {
                throw RuntimeError(.usage, "--capacity \(self.capacity): must be 1...65536")
            }
            let security: AgentProcess.AgentSecurity?
            switch (self.secretKey, self.serverKey) {
            case (let key?, let server?): security = try AgentProcess.AgentSecurity(secretKey: key, serverKey: server)
            case (nil, nil): security = nil
            default: throw RuntimeError(.usage, "--secret-key and --server-key go together")
            }
            var logger = logger
            logger[metadataKey: "mesh.agent"] = "\(id)"
            try await AgentProcess.run(
                id: id, role: role, endpoint: self.connect, capacity: self.capacity, cache: self.cache,
                stateDirectory: self.state, security: security, logger: logger)
        }
    }
}
