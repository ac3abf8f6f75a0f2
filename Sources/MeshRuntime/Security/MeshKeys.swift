import Foundation
public import MeshCore
public import MeshZeroMQ
import SystemPackage
import Yams

/// CURVE key files and rosters on disk (docs/MULTI-HOST.md, "Keys"): what `meshwork keys generate`
/// writes and `meshwork coordinator --roster` / `meshwork agent --secret-key` read.
///
/// - `ID.key`, mode 0600: the secret key, never copied off its host. Read back only when no one
///   but its owner can read it (as ssh does).
/// - `ID.pub`: one roster entry, `ID: { role: ROLE, key: "PUBLIC" }`. A roster is such entries
///   together (`cat keys/*.pub > roster.yaml`).
public enum MeshKeys {
    /// A key file's identity and keys.
    public struct Identity: Sendable, Equatable {
        /// The agent id its connections authenticate as (`coordinator` for the coordinator).
        public var id: AgentID
        /// Its role.
        public var role: Role
        /// Its key pair.
        public var keyPair: CurveKeyPair

        /// The public key (Z85): what goes into the roster.
        public var publicKey: String { self.keyPair.publicKey }
    }

    /// Keys for every process of a mesh in `directory` (`meshwork up --hosts`): one per agent and
    /// the coordinator's, made once and reused (a resumed run keeps its keys), and `roster.yaml`.
    ///
    /// Returns the roster's path.
    public static func provision(
        agents: [(id: AgentID, role: Role)], directory: String
    ) throws(RuntimeError) -> String {
        var entries: [String] = []
        for (id, role) in [(AgentID.coordinator, Role.coordinator)] + agents {
            let secretPath = directory + "/\(id.rawValue).key"
            let identity = FileManager.default.fileExists(atPath: secretPath)
                ? try self.readSecret(path: secretPath) : try self.generate(id: id, role: role, directory: directory)
            entries.append("\(id.rawValue): { role: \(role.rawValue), key: \"\(identity.publicKey)\" }")
        }
        let roster = directory + "/roster.yaml"
        do {
            try (entries.joined(separator: "\n") + "\n").write(toFile: roster, atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.usage, "\(roster): cannot write the roster: \(error.localizedDescription)")
        }
        return roster
    }

    /// The role an id implies: `coordinator`, or the role before `-N` (`compute-2`); `nil` otherwise.
    public static func role(of id: AgentID) -> Role? {
        if id == .coordinator { return .coordinator }
        guard let dash = id.rawValue.lastIndex(of: "-") else { return nil }
        return Role(rawValue: String(id.rawValue[..<dash])).flatMap { $0 == .coordinator ? nil : $0 }
    }

    /// Generates a key pair for `id` of `role` and writes `DIRECTORY/ID.key` (0600) and `DIRECTORY/ID.pub`.
    ///
    /// Refuses to replace an existing key unless `replace` (key rotation: the old secret key is
    /// overwritten, so roll the new public key into the roster first). Returns the identity written.
    @discardableResult
    public static func generate(id: AgentID, role: Role, directory: String, replace: Bool = false) throws(RuntimeError) -> Identity {
        let keyPair: CurveKeyPair
        do {
            keyPair = try CurveKeyPair.generate()
        } catch {
            throw RuntimeError(.usage, "cannot generate a CURVE key pair: \(error)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError(.usage, "\(directory): cannot create the key directory: \(error.localizedDescription)")
        }
        let secretPath = directory + "/\(id.rawValue).key"
        let secret = """
            # meshwork CURVE secret key of \(id.rawValue): keep it on its host (mode 0600), never in a roster
            id: \(id.rawValue)
            role: \(role.rawValue)
            public: "\(keyPair.publicKey)"
            secret: "\(keyPair.secretKey)"

            """
        try self.writePrivate(secret, to: secretPath, replace: replace)
        let publicText = "\(id.rawValue): { role: \(role.rawValue), key: \"\(keyPair.publicKey)\" }\n"
        do {
            try publicText.write(toFile: directory + "/\(id.rawValue).pub", atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.usage, "\(directory)/\(id.rawValue).pub: cannot write: \(error.localizedDescription)")
        }
        return Identity(id: id, role: role, keyPair: keyPair)
    }

    /// Creates `path` with mode 0600 from the start (never readable by others, not even briefly).
    private static func writePrivate(_ text: String, to path: String, replace: Bool) throws(RuntimeError) {
        if replace { _ = unlink(path) }
        do {
            let descriptor = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .exclusiveCreate], permissions: [.ownerReadWrite])
            try descriptor.closeAfter { _ = try descriptor.writeAll(Array(text.utf8)) }
        } catch Errno.fileExists {
            throw RuntimeError(.usage, "\(path): a key is already there (--force replaces it: key rotation)")
        } catch {
            throw RuntimeError(.usage, "\(path): cannot write the secret key: \(error)")
        }
    }

    /// Reads a secret key file; refuses one that its group or others can read.
    public static func readSecret(path: String) throws(RuntimeError) -> Identity {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue else {
            throw RuntimeError(.usage, "\(path): no such key file")
        }
        guard mode & 0o077 == 0 else {
            throw RuntimeError(
                .usage, "\(path): the secret key is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        struct File: Decodable {
            var id: String
            var role: String
            var `public`: String?
            var secret: String
        }
        let file = try self.decode(File.self, path: path)
        guard let id = AgentID(file.id) else { throw RuntimeError(.usage, "\(path): id '\(file.id)' is not an agent id") }
        guard let role = Role(rawValue: file.role) else { throw RuntimeError(.usage, "\(path): role '\(file.role)' is not a role") }
        let keyPair: CurveKeyPair
        do {
            keyPair = try CurveKeyPair(secretKey: file.secret)
        } catch {
            throw RuntimeError(.usage, "\(path): \(error.reason)")
        }
        if let stated = file.public, stated != keyPair.publicKey {
            throw RuntimeError(.usage, "\(path): the public key does not belong to the secret key")
        }
        return Identity(id: id, role: role, keyPair: keyPair)
    }

    /// A public key given as itself (40 Z85 characters) or as a `.pub` file with one entry.
    public static func readPublicKey(_ text: String) throws(RuntimeError) -> String {
        if CurveKeyPair.isKey(text) { return text }
        let roster = try self.readRoster(path: text)
        guard roster.count == 1, let key = roster.keys.first else {
            throw RuntimeError(.usage, "\(text): expected one public key (a .pub file), found \(roster.count)")
        }
        return key
    }

    /// Reads a roster: `ID: { role: ROLE, key: "PUBLIC" }` entries. Each id and key once.
    public static func readRoster(path: String) throws(RuntimeError) -> [String: ForwarderSecurity.Peer] {
        struct Entry: Decodable {
            var role: String
            var key: String
        }
        let entries = try self.decode([String: Entry].self, path: path)
        var roster: [String: ForwarderSecurity.Peer] = [:]
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            guard let id = AgentID(name) else { throw RuntimeError(.usage, "\(path): '\(name)' is not an agent id") }
            guard let role = Role(rawValue: entry.role) else {
                throw RuntimeError(.usage, "\(path): \(name): role '\(entry.role)' is not a role")
            }
            guard CurveKeyPair.isKey(entry.key) else {
                throw RuntimeError(.usage, "\(path): \(name): the key is not a CURVE public key (40 Z85 characters)")
            }
            guard roster[entry.key] == nil else {
                throw RuntimeError(.usage, "\(path): \(name) has the key of \(roster[entry.key]!.id): each key once")
            }
            roster[entry.key] = .init(id: id, role: role)
        }
        guard !roster.isEmpty else { throw RuntimeError(.usage, "\(path): the roster is empty") }
        return roster
    }

    private static func decode<T: Decodable>(_ type: T.Type, path: String) throws(RuntimeError) -> T {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RuntimeError(.usage, "\(path): cannot read: \(FileManager.default.fileExists(atPath: path) ? "not UTF-8 text" : "no such file")")
        }
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch {
            throw RuntimeError(.usage, "\(path): not a key file or roster: \(error)")
        }
    }
}
