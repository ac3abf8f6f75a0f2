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
///   together (`cat keys/*.pub > roster.yaml`); during a key rotation an entry holds the old and
///   the new key, `ID: { role: ROLE, keys: ["OLD", "NEW"] }`.
public enum MeshKeys {
    /// One agent in a roster file: its id, role and the public keys it may authenticate with.
    public struct RosterEntry: Sendable, Equatable {
        /// The agent id.
        public var id: AgentID
        /// Its role.
        public var role: Role
        /// Its public keys (Z85), one normally, two while a rotation overlaps.
        public var keys: [String]

        public init(id: AgentID, role: Role, keys: [String]) {
            self.id = id
            self.role = role
            self.keys = keys
        }

        /// The entry as one roster line.
        public var line: String {
            let quoted = self.keys.map { "\"\($0)\"" }
            let keys = quoted.count == 1 ? "key: \(quoted[0])" : "keys: [\(quoted.joined(separator: ", "))]"
            return "\(self.id.rawValue): { role: \(self.role.rawValue), \(keys) }"
        }
    }

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
        let identity = Identity(id: id, role: role, keyPair: try self.newKeyPair())
        try self.write(identity, directory: directory, replace: replace)
        return identity
    }

    private static func newKeyPair() throws(RuntimeError) -> CurveKeyPair {
        do {
            return try CurveKeyPair.generate()
        } catch {
            throw RuntimeError(.usage, "cannot generate a CURVE key pair: \(error)")
        }
    }

    /// Writes `DIRECTORY/ID.key` (0600) and `DIRECTORY/ID.pub` of `identity`.
    private static func write(_ identity: Identity, directory: String, replace: Bool) throws(RuntimeError) {
        let (id, role, keyPair) = (identity.id, identity.role, identity.keyPair)
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
    }

    /// Step 1 of an agent's key rotation (docs/MULTI-HOST.md, "Key rotation"): a new key pair for
    /// `id` replaces `DIRECTORY/ID.key` and `.pub`, and its public key is added to the roster entry
    /// of `id` beside the old one, so both are admitted once the coordinator reads the roster again
    /// (SIGHUP). The roster is written before the key files, each atomically.
    ///
    /// Returns the new identity and the keys the entry held before.
    public static func rotate(
        id: AgentID, directory: String, roster: String
    ) throws(RuntimeError) -> (identity: Identity, previous: [String]) {
        let keyPair = try self.newKeyPair()
        let (role, previous) = try self.admit(keyPair.publicKey, for: id, roster: roster)
        let identity = Identity(id: id, role: role, keyPair: keyPair)
        try self.write(identity, directory: directory, replace: true)
        return (identity, previous)
    }

    /// Adds `publicKey` to the roster entry of `id` beside its keys (a key made on the agent's own
    /// host: its secret never travels). Returns the entry's role and the keys it held before.
    @discardableResult
    public static func admit(
        _ publicKey: String, for id: AgentID, roster: String
    ) throws(RuntimeError) -> (role: Role, previous: [String]) {
        var entries = try self.readRosterEntries(path: roster)
        guard let index = entries.firstIndex(where: { $0.id == id }) else {
            throw RuntimeError(.usage, "\(roster): \(id) is not in the roster (add its .pub line to admit it)")
        }
        if let other = entries.first(where: { $0.keys.contains(publicKey) }) {
            throw RuntimeError(.usage, "\(roster): the key is already \(other.id)'s: each key once")
        }
        let previous = entries[index].keys
        entries[index].keys.append(publicKey)
        try self.writeRoster(entries, to: roster)
        return (entries[index].role, previous)
    }

    /// Step 3 of a rotation: removes from `id`'s roster entry every key but `current` (the one its
    /// agent now uses); the coordinator drops the connections of the removed keys when it reads
    /// the roster again (SIGHUP). Returns the keys removed.
    public static func retire(id: AgentID, keeping current: String, roster: String) throws(RuntimeError) -> [String] {
        var entries = try self.readRosterEntries(path: roster)
        guard let index = entries.firstIndex(where: { $0.id == id }) else {
            throw RuntimeError(.usage, "\(roster): \(id) is not in the roster")
        }
        guard entries[index].keys.contains(current) else {
            throw RuntimeError(
                .usage,
                "\(roster): \(id)'s current key \(current) is not in its entry: retiring the others would lock it out")
        }
        let removed = entries[index].keys.filter { $0 != current }
        entries[index].keys = [current]
        try self.writeRoster(entries, to: roster)
        return removed
    }

    /// Writes a roster atomically (a new file renamed over the old), so a coordinator reading it
    /// on SIGHUP never sees half of it.
    public static func writeRoster(_ entries: [RosterEntry], to path: String) throws(RuntimeError) {
        let text = entries.map(\.line).joined(separator: "\n") + "\n"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.usage, "\(path): cannot write the roster: \(error.localizedDescription)")
        }
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

    /// Reads a roster: `ID: { role: ROLE, key: "PUBLIC" }` entries (or `keys: [OLD, NEW]` while a
    /// rotation overlaps), as public key → peer. Each id and key once.
    public static func readRoster(path: String) throws(RuntimeError) -> [String: ForwarderSecurity.Peer] {
        var roster: [String: ForwarderSecurity.Peer] = [:]
        for entry in try self.readRosterEntries(path: path) {
            for key in entry.keys {
                guard roster[key] == nil else {
                    throw RuntimeError(.usage, "\(path): \(entry.id) has the key of \(roster[key]!.id): each key once")
                }
                roster[key] = .init(id: entry.id, role: entry.role)
            }
        }
        return roster
    }

    /// Reads a roster's entries, sorted by id; refuses an empty roster, a bad id, role or key.
    public static func readRosterEntries(path: String) throws(RuntimeError) -> [RosterEntry] {
        struct Entry: Decodable {
            var role: String
            var key: String?
            var keys: [String]?
        }
        let entries = try self.decode([String: Entry].self, path: path)
        var result: [RosterEntry] = []
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            guard let id = AgentID(name) else { throw RuntimeError(.usage, "\(path): '\(name)' is not an agent id") }
            guard let role = Role(rawValue: entry.role) else {
                throw RuntimeError(.usage, "\(path): \(name): role '\(entry.role)' is not a role")
            }
            let keys: [String]
            switch (entry.key, entry.keys) {
            case (let key?, nil): keys = [key]
            case (nil, let list?) where !list.isEmpty: keys = list
            default:
                throw RuntimeError(.usage, "\(path): \(name): give either key: \"PUBLIC\" or keys: [\"OLD\", \"NEW\"]")
            }
            for key in keys where !CurveKeyPair.isKey(key) {
                throw RuntimeError(.usage, "\(path): \(name): the key is not a CURVE public key (40 Z85 characters)")
            }
            guard Set(keys).count == keys.count else {
                throw RuntimeError(.usage, "\(path): \(name): a key is listed twice")
            }
            result.append(RosterEntry(id: id, role: role, keys: keys))
        }
        guard !result.isEmpty else { throw RuntimeError(.usage, "\(path): the roster is empty") }
        return result
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
