import ArgumentParser
import Foundation
import Logging
import MeshCore
import MeshRuntime

/// `meshwork blob put|fetch`: moves content-addressed blobs between hosts over the mesh.
struct BlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blob",
        abstract: "Put a file into a run's artifact store, or fetch a blob over the mesh into a cache directory.",
        subcommands: [BlobPutCommand.self, BlobFetchCommand.self]
    )
}

/// `meshwork blob put FILE --run-dir DIR`: stores FILE in DIR's artifacts and prints its hash.
struct BlobPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store FILE in the run directory's artifact store; prints its hash (sha256:…)."
    )

    @Argument(help: "The file to store.")
    var file: String

    @Option(name: .long, help: "The run directory whose artifacts/ gets the file.")
    var runDir: String

    func run() async throws {
        try await CommandFailure.guarding {
            let (hash, _) = try BlobProcess.put(file: self.file, runDirectory: self.runDir)
            print(hash)
        }
    }
}

/// `meshwork blob fetch HASH --connect ENDPOINT --cache DIR`: fetches a blob from the coordinator.
struct BlobFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Join the mesh at ENDPOINT, fetch the blob HASH from the coordinator into DIR, check it; prints its path.",
        discussion: """
            Joins as a compute participant that takes no work, asks in chunks of at most 1 MiB, checks the SHA-256 and \
            stores the blob under DIR/sha256/. Exits 1 with one line when the coordinator does not have it or nothing \
            answers within --timeout. Over tcp:// it authenticates as an agent does: --secret-key (a key in the \
            coordinator's roster, e.g. meshwork keys generate --id fetch-1 --role compute; it joins with that id and \
            role) and --server-key.
            """
    )

    @Argument(help: "The blob's hash, sha256:<64 hex digits>.")
    var hash: String

    @Option(name: .long, help: "The mesh's address, such as ipc:///tmp/m/mesh or tcp://10.0.0.1:5555.")
    var connect: String

    @Option(name: .long, help: "The cache directory the blob is stored in (created if needed).")
    var cache: String

    @Option(name: .long, help: "The participant's id in the mesh (default: the key's id with --secret-key, else fetch-PID).")
    var id: String?

    @Option(name: .long, help: "This participant's secret key file (its key in the coordinator's roster); required with tcp://.")
    var secretKey: String?

    @Option(name: .long, help: "The coordinator's public key, or its .pub file; required with tcp://.")
    var serverKey: String?

    @Option(name: .long, help: "Seconds to wait for the whole fetch.")
    var timeout = 60

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .warning)
        try await CommandFailure.guarding {
            guard let hash = BlobHash(self.hash) else {
                throw RuntimeError(.usage, "\(self.hash): not a blob hash (sha256: and 64 hex digits)")
            }
            let security: AgentProcess.AgentSecurity?
            switch (self.secretKey, self.serverKey) {
            case (let key?, let server?): security = try AgentProcess.AgentSecurity(secretKey: key, serverKey: server)
            case (nil, nil): security = nil
            default: throw RuntimeError(.usage, "--secret-key and --server-key go together")
            }
            let text = self.id ?? security?.identity.id.rawValue ?? "fetch-\(ProcessEnvironment.pid)"
            guard let id = AgentID(text) else {
                throw RuntimeError(.usage, "--id \(text): ids are 1-64 letters, digits, '-', '_' or '.'")
            }
            if let identity = security?.identity {
                guard identity.id == id else {
                    throw RuntimeError(.usage, "--secret-key: the key is \(identity.id)'s, not \(id)'s")
                }
            }
            guard (1...86_400).contains(self.timeout) else {
                throw RuntimeError(.usage, "--timeout \(self.timeout): must be 1...86400 seconds")
            }
            let fetched = try await BlobProcess.fetch(
                hash: hash, endpoint: self.connect, cache: self.cache, id: id, timeout: .seconds(self.timeout),
                security: security, logger: logger)
            let seconds = Double(fetched.duration.components.seconds) + Double(fetched.duration.components.attoseconds) * 1e-18
            if seconds > 0 {
                let rate = Double(fetched.bytes) / 1e6 / seconds
                ProcessEnvironment.emitError(
                    "fetched \(fetched.bytes) bytes in \(String(format: "%.3f", seconds)) s (\(String(format: "%.1f", rate)) MB/s)")
            }
            print(fetched.path)
        }
    }
}
