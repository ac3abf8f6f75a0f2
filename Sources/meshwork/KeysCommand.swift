import ArgumentParser
import Logging
import MeshCore
import MeshRuntime

/// `meshwork keys generate --id ID`: CURVE keys for a tcp mesh (docs/MULTI-HOST.md, "Keys").
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "CURVE keys for a mesh over tcp.",
        subcommands: [Generate.self]
    )

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write DIR/ID.key (secret, mode 0600) and DIR/ID.pub (its roster entry); print the public key.",
            discussion: """
                A roster is the .pub files together: cat keys/*.pub > roster.yaml. The coordinator's key is
                `--id coordinator`; its public key (or keys/coordinator.pub) is every agent's --server-key.
                """
        )

        @Option(name: .long, help: "The agent id (coordinator for the coordinator).")
        var id: String

        @Option(name: .long, help: "The role (default: from the id, as compute-2 → compute).")
        var role: String?

        @Option(name: .long, help: "Where the key files go.")
        var dir = "keys"

        @Flag(name: .long, help: "Replace an existing key (rotation: put the new .pub in the roster, restart the coordinator, then the agent).")
        var force = false

        func run() async throws {
            try await CommandFailure.guarding {
                guard let id = AgentID(self.id) else {
                    throw RuntimeError(.usage, "--id \(self.id): ids are 1-64 letters, digits, '-', '_' or '.'")
                }
                let role: Role
                if let text = self.role {
                    guard let parsed = Role(rawValue: text), (parsed == .coordinator) == (id == .coordinator) else {
                        throw RuntimeError(.usage, "--role \(text): not a role for \(id)")
                    }
                    role = parsed
                } else {
                    guard let implied = MeshKeys.role(of: id) else {
                        throw RuntimeError(.usage, "--id \(id): no role in the id (ROLE-N); give --role")
                    }
                    role = implied
                }
                let identity = try MeshKeys.generate(id: id, role: role, directory: self.dir, replace: self.force)
                print(identity.publicKey)
            }
        }
    }
}
