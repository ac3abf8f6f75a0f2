import Synchronization

/// The models the inference server serves: versions by name and number, and aliases
/// (`staging`, `production`, any valid name) that point at versions, with each alias's history.
///
/// Every change is one critical section, so an alias switches atomically: a request resolves its
/// model version once, under the lock, and finishes on that version (``ModelVersion`` is
/// immutable); a request that resolves after the switch gets the new one; no request fails because
/// of a switch. Callable from any thread or task; nothing here blocks beyond a short lock.
///
/// ```swift
/// let registry = ModelRegistry()
/// try registry.deploy(candidate, alias: "staging")          // version 3 under staging
/// // … end-to-end tests against /v2/models/digits-classifier@staging/infer, the human approves …
/// try registry.promote("digits-classifier", from: "staging", to: "production")
/// try registry.rollback("digits-classifier", alias: "production")   // back to the version before
/// let stats = registry.statistics("digits-classifier", version: 3)  // p50/p99, request counts
/// ```
public final class ModelRegistry: Sendable {
    /// One model's versions and aliases.
    struct Entry {
        var versions: [Int: ModelVersion] = [:]
        var aliases: [String: Int] = [:]
        /// Per alias, the versions it pointed at before, oldest first.
        var history: [String: [Int]] = [:]
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The alias a bare model name resolves through: `production`.
    public let defaultAlias: String

    /// An empty registry whose bare model names resolve through `defaultAlias`.
    public init(defaultAlias: String = "production") {
        self.defaultAlias = defaultAlias
    }

    // MARK: Versions

    /// Adds a version without pointing any alias at it (it is reachable by number).
    ///
    /// - Throws: `versionExists` when another version object with the same name and number is
    ///   registered (registering the same object again does nothing).
    public func register(_ version: ModelVersion) throws(RegistryError) {
        try self.entries.withLock { entries throws(RegistryError) in
            try Self.insert(version, into: &entries[version.name, default: Entry()])
        }
    }

    /// Registers `version` if it is new and points `alias` at it, atomically; the alias's previous
    /// version, if any, goes onto its history for ``rollback(_:alias:)``.
    ///
    /// - Throws: `invalidName` for a bad alias, `versionExists` as ``register(_:)``.
    public func deploy(_ version: ModelVersion, alias: String) throws(RegistryError) {
        try ModelName.check(alias, kind: "alias")
        try self.entries.withLock { entries throws(RegistryError) in
            var entry = entries[version.name] ?? Entry()
            try Self.insert(version, into: &entry)
            Self.point(alias, at: version.version, in: &entry)
            entries[version.name] = entry
        }
    }

    /// Points `alias` of model `name` at its registered version `version`, atomically.
    ///
    /// - Throws: `modelNotFound`, `versionNotFound`, `invalidName`.
    public func deploy(_ name: String, version: Int, alias: String) throws(RegistryError) {
        try ModelName.check(alias, kind: "alias")
        try self.entries.withLock { entries throws(RegistryError) in
            guard var entry = entries[name] else { throw Self.noModel(name) }
            guard entry.versions[version] != nil else { throw Self.noVersion(name, version) }
            Self.point(alias, at: version, in: &entry)
            entries[name] = entry
        }
    }

    /// Points alias `to` at the version alias `from` points at, atomically, and returns that
    /// version's number. `to`'s previous version goes onto its history.
    ///
    /// - Throws: `modelNotFound`, `aliasNotFound` (for `from`), `invalidName` (for `to`).
    @discardableResult
    public func promote(_ name: String, from: String = "staging", to: String = "production") throws(RegistryError)
        -> Int
    {
        try ModelName.check(to, kind: "alias")
        return try self.entries.withLock { entries throws(RegistryError) -> Int in
            guard var entry = entries[name] else { throw Self.noModel(name) }
            guard let version = entry.aliases[from] else { throw Self.noAlias(name, from) }
            Self.point(to, at: version, in: &entry)
            entries[name] = entry
            return version
        }
    }

    /// Points `alias` back at the version it pointed at before its last change, atomically, and
    /// returns that version's number. Repeated rollbacks walk further back.
    ///
    /// - Throws: `modelNotFound`, `aliasNotFound`, `nothingToRollBack` (the alias has no history).
    @discardableResult
    public func rollback(_ name: String, alias: String) throws(RegistryError) -> Int {
        try self.entries.withLock { entries throws(RegistryError) -> Int in
            guard var entry = entries[name] else { throw Self.noModel(name) }
            guard entry.aliases[alias] != nil else { throw Self.noAlias(name, alias) }
            guard let previous = entry.history[alias]?.popLast() else {
                throw RegistryError(
                    .nothingToRollBack,
                    "model '\(name)' alias '\(alias)' has not pointed at another version before"
                )
            }
            entry.aliases[alias] = previous
            entries[name] = entry
            return previous
        }
    }

    /// Removes `alias` (and its history); the versions stay registered. Returns whether it existed.
    @discardableResult
    public func removeAlias(_ name: String, alias: String) -> Bool {
        self.entries.withLock { entries in
            guard entries[name]?.aliases.removeValue(forKey: alias) != nil else { return false }
            entries[name]?.history[alias] = nil
            return true
        }
    }

    // MARK: Reading

    /// The registered model names, sorted.
    public var modelNames: [String] {
        self.entries.withLock { $0.keys.sorted() }
    }

    /// Model `name`'s version numbers, ascending (empty for an unknown model).
    public func versions(_ name: String) -> [Int] {
        self.entries.withLock { $0[name]?.versions.keys.sorted() ?? [] }
    }

    /// Model `name`'s aliases and the version each points at.
    public func aliases(_ name: String) -> [String: Int] {
        self.entries.withLock { $0[name]?.aliases ?? [:] }
    }

    /// The versions `alias` pointed at before its current one, oldest first.
    public func history(_ name: String, alias: String) -> [Int] {
        self.entries.withLock { $0[name]?.history[alias] ?? [] }
    }

    /// The version `alias` of model `name` points at (by default ``defaultAlias``), if any.
    public func version(_ name: String, alias: String? = nil) -> ModelVersion? {
        let alias = alias ?? self.defaultAlias
        return self.entries.withLock { entries in
            guard let entry = entries[name], let number = entry.aliases[alias] else { return nil }
            return entry.versions[number]
        }
    }

    /// Version `number` of model `name`, if registered.
    public func version(_ name: String, number: Int) -> ModelVersion? {
        self.entries.withLock { $0[name]?.versions[number] }
    }

    /// What version `number` of `name` has served, or nil for an unknown version.
    public func statistics(_ name: String, version number: Int) -> ServingStatistics? {
        self.version(name, number: number)?.statistics
    }

    /// What all versions of `name` have served together (counts added, percentiles over the union
    /// of their windows), or nil for an unknown model.
    public func statistics(_ name: String) -> ServingStatistics? {
        guard let versions = self.entries.withLock({ $0[name].map { Array($0.versions.values) } }) else { return nil }
        var requests = 0
        var rows = 0
        var failures = 0
        var latencies: [UInt64] = []
        for version in versions {
            let statistics = version.statistics
            requests += statistics.requests
            rows += statistics.rows
            failures += statistics.failures
            latencies += version.latencyWindow
        }
        return ServingStatistics(requests: requests, rows: rows, failures: failures, latencies: latencies)
    }

    /// Resolves a request's model reference to a version, or says why it cannot.
    func resolve(_ reference: ModelReference) throws(InferenceError) -> ModelVersion {
        let found: Result<ModelVersion, InferenceError> = self.entries.withLock { entries in
            guard let entry = entries[reference.name] else {
                return .failure(InferenceError(.modelNotFound, "no model named '\(reference.name)'"))
            }
            switch reference.selector {
            case .version(let number):
                guard let version = entry.versions[number] else {
                    return .failure(
                        InferenceError(.modelNotFound, "model '\(reference.name)' has no version \(number)")
                    )
                }
                return .success(version)
            case .alias(let alias):
                let alias = alias ?? self.defaultAlias
                guard let number = entry.aliases[alias], let version = entry.versions[number] else {
                    let known = entry.aliases.keys.sorted().joined(separator: ", ")
                    return .failure(
                        InferenceError(
                            .modelNotFound,
                            "model '\(reference.name)' has no version under alias '\(alias)'"
                                + (known.isEmpty ? "" : " (aliases: \(known))")
                        )
                    )
                }
                return .success(version)
            }
        }
        return try found.get()
    }

    // MARK: Helpers

    private static func insert(_ version: ModelVersion, into entry: inout Entry) throws(RegistryError) {
        if let existing = entry.versions[version.version] {
            guard existing === version else {
                throw RegistryError(
                    .versionExists,
                    "model '\(version.name)' already has a version \(version.version)"
                )
            }
            return
        }
        entry.versions[version.version] = version
    }

    private static func point(_ alias: String, at version: Int, in entry: inout Entry) {
        if let previous = entry.aliases[alias], previous != version {
            entry.history[alias, default: []].append(previous)
        }
        entry.aliases[alias] = version
    }

    private static func noModel(_ name: String) -> RegistryError {
        RegistryError(.modelNotFound, "no model named '\(name)'")
    }

    private static func noVersion(_ name: String, _ version: Int) -> RegistryError {
        RegistryError(.versionNotFound, "model '\(name)' has no version \(version)")
    }

    private static func noAlias(_ name: String, _ alias: String) -> RegistryError {
        RegistryError(.aliasNotFound, "model '\(name)' has no alias '\(alias)'")
    }
}

/// Which version a request names: a model and an alias (nil for the default) or a number.
struct ModelReference: Hashable, Sendable {
    enum Selector: Hashable, Sendable {
        case alias(String?)
        case version(Int)
    }

    var name: String
    var selector: Selector
}
