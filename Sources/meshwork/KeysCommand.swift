import ArgumentParser
import Logging
import MeshCore
import MeshRuntime

/// `meshwork keys generate --id ID`: CURVE keys for a tcp mesh (docs/MULTI-HOST.md, "Keys").
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "CURVE keys for a mesh over tcp.",
        subcommands: [Generate.self, Rotate.self, Retire.self]
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

        @Flag(name: .long, help: "Replace an existing key (for a rotation without downtime use `meshwork keys rotate`).")
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

    /// `meshwork keys rotate --id ID --roster ROSTER`: step 1 of a rotation without downtime.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Make a new key pair for ID (DIR/ID.key and .pub) and add its public key to ROSTER beside the old one.",
            discussion: """
                Then: SIGHUP the coordinator (it admits both keys), SIGHUP the agent (it reads its new key and \
                connects again), and `meshwork keys retire` the old key (docs/MULTI-HOST.md, "Key rotation"). \
                Prints the new public key. With --public, the key was made on the agent's host (meshwork keys \
                generate there into another directory): only that public key is added, no key file is written.
                """
        )

        @Option(name: .long, help: "The agent id whose key is rotated.")
        var id: String

        @Option(name: .long, help: "Where the agent's key files are.")
        var dir = "keys"

        @Option(name: .long, help: "The coordinator's roster file (rewritten atomically).")
        var roster: String

        @Option(name: .long, help: "Add this public key (or .pub file) made on the agent's host instead of making one here.")
        var `public`: String?

        func run() async throws {
            try await CommandFailure.guarding {
                let id = try KeysCommand.agentID(self.id)
                let key: String
                let previous: [String]
                if let text = self.public {
                    key = try MeshKeys.readPublicKey(text)
                    previous = try MeshKeys.admit(key, for: id, roster: self.roster).previous
                } else {
                    let rotated = try MeshKeys.rotate(id: id, directory: self.dir, roster: self.roster)
                    (key, previous) = (rotated.identity.publicKey, rotated.previous)
                }
                ProcessEnvironment.emitError(
                    "\(id): \((previous + [key]).joined(separator: ", ")) admitted; SIGHUP the coordinator, then the agent")
                print(key)
            }
        }
    }

    /// `meshwork keys retire --id ID --roster ROSTER`: the last step of a rotation.
    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire",
            abstract: "Remove from ID's roster entry every key but the one in DIR/ID.key (or --keep); prints the keys removed.",
            discussion: """
                Then SIGHUP the coordinator: connections still authenticated with a removed key are dropped and \
                the key is refused from then on.
                """
        )

        @Option(name: .long, help: "The agent id.")
        var id: String

        @Option(name: .long, help: "Where the agent's current key file is.")
        var dir = "keys"

        @Option(name: .long, help: "The coordinator's roster file (rewritten atomically).")
        var roster: String

        @Option(name: .long, help: "The key to keep (a public key or .pub file), when DIR/ID.key is on another host.")
        var keep: String?

        func run() async throws {
            try await CommandFailure.guarding {
                let id = try KeysCommand.agentID(self.id)
                let current = try self.keep.map { text throws(RuntimeError) in try MeshKeys.readPublicKey(text) }
                    ?? MeshKeys.readSecret(path: self.dir + "/\(id.rawValue).key").publicKey
                let removed = try MeshKeys.retire(id: id, keeping: current, roster: self.roster)
                for key in removed { print(key) }
            }
        }
    }

    static func agentID(_ text: String) throws(RuntimeError) -> AgentID {
        guard let id = AgentID(text) else {
            throw RuntimeError(.usage, "--id \(text): ids are 1-64 letters, digits, '-', '_' or '.'")
        }
        return id
    }
}
