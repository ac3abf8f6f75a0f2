public import Foundation
import GRDB
import Synchronization

/// The database of one run, `runs/<run-id>/mesh.sqlite`: journals, registries, metrics, alerts.
///
/// One process writes a run (the coordinator); it creates or re-opens the database with
/// ``create(at:run:options:)`` or ``open(at:options:)``, which take an exclusive lock
/// (`mesh.sqlite-writer`) for the store's lifetime, so a second writer is refused at once instead
/// of meeting "database is locked" later. Every other process opens it with
/// ``openReadOnly(at:)``: the database is in WAL mode, so readers see a consistent snapshot and
/// never block the writer.
///
/// ```swift
/// let store = try RunStore.create(at: run.path, run: RunInfo(id: run.id, scenario: "relay", seed: 7))
/// let journal = SQLiteJournal(store)          // the coordinator's JournalSink
/// …
/// try store.finish(digest: report.digest)
/// let check = try RunStore.openReadOnly(at: run.path).readJournal()   // digest recomputed
/// ```
///
/// Methods are synchronous and may block on disk I/O: call them off Swift's cooperative pool
/// where that matters. They are safe to call from any thread (GRDB serializes the connection).
public final class RunStore: Sendable {
    /// How much a write survives once it returned (`PRAGMA synchronous`).
    public enum Durability: String, Sendable {
        /// `synchronous = NORMAL`: a returned write survives the death of any process (kill -9);
        /// a power loss or kernel crash may lose the last transactions, never corrupt the file.
        case processCrash
        /// `synchronous = FULL`: also survives a power loss, at one fsync per commit.
        case powerLoss
    }

    /// How a writer opens the database.
    public struct Options: Sendable {
        /// See ``Durability``; the default is ``Durability/processCrash`` (docs/STORE.md says why).
        public var durability: Durability
        /// How long to wait for a lock held by a reader's checkpoint before failing.
        public var busyTimeout: Duration

        public init(durability: Durability = .processCrash, busyTimeout: Duration = .seconds(5)) {
            self.durability = durability
            self.busyTimeout = busyTimeout
        }
    }

    /// The schema version this build writes and understands.
    public static let schemaVersion = Schema.version
    /// The database file's name inside a run directory.
    public static let fileName = "mesh.sqlite"

    /// The run directory.
    public let directory: String
    /// The database file.
    public let databasePath: String
    /// Whether this store was opened read-only.
    public let isReadOnly: Bool

    /// The writer's automatic checkpoint, a backstop behind its ``WALCheckpointer``: only a WAL
    /// the passive checkpoints never caught up with grows this far (4,096 pages, 16 MiB).
    static let backstopCheckpointPages = 4096

    let queue: DatabaseQueue
    private let writerLock: WriterLock?
    private let checkpointer: WALCheckpointer?

    private init(
        directory: String, databasePath: String, queue: DatabaseQueue, writerLock: WriterLock?, checkpointer: WALCheckpointer? = nil
    ) {
        self.directory = directory
        self.databasePath = databasePath
        self.queue = queue
        self.writerLock = writerLock
        self.checkpointer = checkpointer
        self.isReadOnly = writerLock == nil
    }

    deinit {
        self.checkpointer?.stop()
    }

    // MARK: - Opening

    /// Creates the database of a new run in `directory` (which must exist) and records `run`.
    ///
    /// Refuses with ``StoreError/Code/alreadyExists`` when the directory already holds a database:
    /// resuming goes through ``open(at:options:)``, so nothing recorded is ever overwritten.
    public static func create(at directory: String, run: RunInfo, options: Options = Options()) throws(StoreError) -> RunStore {
        let path = try self.databasePath(in: directory)
        if FileIO.fileSize(path) != nil {
            throw StoreError(.alreadyExists, path: path, "a run database already exists (open it to resume the run)")
        }
        try FileIO.requireWritable(directory)
        let lock = try WriterLock(databasePath: path)
        let queue = try self.openWriter(path: path, options: options)
        let checkpointer = try WALCheckpointer(path: path, synchronous: self.synchronous(options))
        let store = RunStore(directory: directory, databasePath: path, queue: queue, writerLock: lock, checkpointer: checkpointer)
        try store.migrate()
        var info = run
        info.schemaVersion = Schema.version
        info.writerPID = FileIO.processID
        info.writerHost = FileIO.hostName
        try store.write("cannot record the run") { [info] db in
            try db.execute(
                sql: """
                    INSERT INTO run (id, scenario, seed, schema_version, started_at, writer_pid, writer_host)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    info.id, info.scenario, String(info.seed), info.schemaVersion, WallTime.text(info.startedAt),
                    info.writerPID, info.writerHost,
                ])
        }
        return store
    }

    /// Re-opens an existing run's database for writing (to resume it): checks it first (a
    /// Meshwork database, not from a newer schema, `PRAGMA quick_check` ok), then applies any
    /// migration this build has that the file lacks, and records this process as the writer.
    public static func open(at directory: String, options: Options = Options()) throws(StoreError) -> RunStore {
        let path = try self.existingDatabasePath(in: directory)
        try FileIO.requireWritable(directory)
        try FileIO.requireWritable(path)
        // Check with a read-only connection first, so a damaged or foreign file is never modified.
        do {
            let probe = try self.openReader(path: path)
            try probe.read("cannot check the database") { db in
                try Self.validate(db, path: path)
                let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
                if problems != ["ok"] {
                    throw StoreError(.corrupt, path: path, "the database is corrupt: \(problems.prefix(3).joined(separator: "; "))")
                }
            }
        }
        let lock = try WriterLock(databasePath: path)
        let queue = try self.openWriter(path: path, options: options)
        let checkpointer = try WALCheckpointer(path: path, synchronous: self.synchronous(options))
        let store = RunStore(directory: directory, databasePath: path, queue: queue, writerLock: lock, checkpointer: checkpointer)
        try store.migrate()
        let pid = FileIO.processID
        let host = FileIO.hostName
        try store.write("cannot record the writer") { db in
            try db.execute(sql: "UPDATE run SET writer_pid = ?, writer_host = ?", arguments: [pid, host])
        }
        return store
    }

    /// Opens a run's database read-only: for `meshwork status`, replay and any other process than
    /// the writer. Works on a finished run and on a running one.
    public static func openReadOnly(at directory: String) throws(StoreError) -> RunStore {
        let path = try self.existingDatabasePath(in: directory)
        let store = try self.openReader(path: path)
        try store.read("cannot read the database") { db in try Self.validate(db, path: path) }
        return store
    }

    /// Closes the connection (the writer's close checkpoints the WAL into the database file) and
    /// releases the writer lock. Later calls throw.
    public func close() throws(StoreError) {
        // The checkpointer's connection first, so the writer's is the last and its close
        // checkpoints everything and removes the WAL.
        self.checkpointer?.stop()
        do {
            try self.queue.close()
        } catch {
            throw StoreError(error, path: self.databasePath, doing: "cannot close the database")
        }
        self.writerLock?.release()
    }

    // MARK: - The run

    /// The run's row.
    public func runInfo() throws(StoreError) -> RunInfo {
        try self.read("cannot read the run") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run LIMIT 1") else {
                throw StoreError(.corrupt, path: self.databasePath, "the run table is empty")
            }
            var info = RunInfo(
                id: row["id"], scenario: row["scenario"], seed: UInt64(row["seed"] as String) ?? 0,
                startedAt: WallTime.date(row["started_at"]) ?? Date(timeIntervalSince1970: 0))
            info.endedAt = (row["ended_at"] as String?).flatMap(WallTime.date)
            info.finalDigest = row["final_digest"]
            info.schemaVersion = row["schema_version"]
            info.writerPID = row["writer_pid"]
            info.writerHost = row["writer_host"]
            return info
        }
    }

    /// Marks the run finished with its final logical digest (`sha256:` + hex).
    public func finish(digest: String, at date: Date = Date()) throws(StoreError) {
        let text = WallTime.text(date)
        try self.write("cannot mark the run finished") { db in
            try db.execute(sql: "UPDATE run SET ended_at = ?, final_digest = ?", arguments: [text, digest])
        }
    }

    /// Runs `PRAGMA integrity_check`: `["ok"]` when the file is sound, else SQLite's findings.
    public func integrityCheck() throws(StoreError) -> [String] {
        try self.read("cannot check integrity") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    // MARK: - Internals

    /// Runs `body` in one IMMEDIATE transaction (so a competing lock shows at BEGIN, not midway).
    func write<T: Sendable>(_ doing: String, _ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try self.queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw StoreError(error, path: self.databasePath, doing: doing)
        }
    }

    /// Runs `body` in a read transaction: one consistent snapshot, even while the writer commits.
    func read<T: Sendable>(_ doing: String, _ body: @Sendable (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try self.queue.read(body)
        } catch {
            throw StoreError(error, path: self.databasePath, doing: doing)
        }
    }

    private func migrate() throws(StoreError) {
        do {
            try self.queue.read { db in try Self.validate(db, path: self.databasePath, allowEmpty: true) }
            try Schema.migrator.migrate(self.queue)
        } catch {
            throw StoreError(error, path: self.databasePath, doing: "cannot set up the schema")
        }
    }

    /// Refuses what is not a Meshwork run database, or one from a newer schema.
    static func validate(_ db: Database, path: String, allowEmpty: Bool = false) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if applicationID == 0, version == 0, allowEmpty,
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") == 0
        {
            return
        }
        guard applicationID == Schema.applicationID else {
            throw StoreError(.notADatabase, path: path, "an SQLite database, but not a Meshwork run (application_id \(applicationID))")
        }
        guard version <= Schema.version else {
            throw StoreError(
                .newerSchema, path: path,
                "schema version \(version) is newer than this meshwork understands (\(Schema.version)); use a newer meshwork")
        }
        guard version >= 1 else {
            throw StoreError(.corrupt, path: path, "a Meshwork database without a schema (version 0)")
        }
    }

    private static func databasePath(in directory: String) throws(StoreError) -> String {
        guard FileIO.isDirectory(directory) else {
            throw StoreError(.notARun, path: directory, "not a run directory (no such directory)")
        }
        return directory.hasSuffix("/") ? directory + self.fileName : directory + "/" + self.fileName
    }

    private static func existingDatabasePath(in directory: String) throws(StoreError) -> String {
        let path = try self.databasePath(in: directory)
        guard FileIO.fileSize(path) != nil else {
            throw StoreError(.notARun, path: directory, "not a run directory (no \(self.fileName))")
        }
        try DatabaseFileHeader.check(path)
        return path
    }

    private static func openWriter(path: String, options: Options) throws(StoreError) -> DatabaseQueue {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(TimeInterval(options.busyTimeout.components.seconds))
        configuration.label = "meshwork.store"
        let synchronous = self.synchronous(options)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            // GRDB's WAL set-up picks NORMAL; set our choice explicitly, after it.
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                // Bound the WAL file that stays behind after a checkpoint.
                try db.execute(sql: "PRAGMA journal_size_limit = \(64 << 20)")
                // Checkpoints run on the store's WALCheckpointer; this one is the backstop.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopCheckpointPages)")
            }
            return queue
        } catch {
            throw StoreError(error, path: path, doing: "cannot open the database for writing")
        }
    }

    private static func synchronous(_ options: Options) -> String {
        options.durability == .powerLoss ? "FULL" : "NORMAL"
    }

    private static func openReader(path: String) throws(StoreError) -> RunStore {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        configuration.label = "meshwork.store.reader"
        let directory = (path as NSString).deletingLastPathComponent
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            // Reading a WAL database needs its -shm file: SQLite creates it when the directory is
            // writable. On read-only media without one, see below.
            try queue.read { db in _ = try Int.fetchOne(db, sql: "PRAGMA schema_version") }
            return RunStore(directory: directory, databasePath: path, queue: queue, writerLock: nil)
        } catch {
            let walSize = FileIO.fileSize(path + "-wal") ?? 0
            guard !FileIO.isWritable(directory), FileIO.fileSize(path + "-shm") == nil else {
                throw StoreError(error, path: path, doing: "cannot open the database")
            }
            guard walSize == 0 else {
                throw StoreError(
                    .readOnly, path: path,
                    "the write-ahead log holds commits not yet in the database and the directory is read-only; copy the run directory somewhere writable to read it")
            }
            // A finished run on read-only media: nothing is in a WAL, and nothing can change the
            // file, which is exactly SQLite's `immutable` case (Debian's SQLite takes URI names).
            do {
                let queue = try DatabaseQueue(path: "file:" + Self.uriEscaped(path) + "?immutable=1", configuration: configuration)
                try queue.read { db in _ = try Int.fetchOne(db, sql: "PRAGMA schema_version") }
                return RunStore(directory: directory, databasePath: path, queue: queue, writerLock: nil)
            } catch {
                throw StoreError(error, path: path, doing: "cannot open the database on read-only media")
            }
        }
    }

    /// `path` with the characters a `file:` URI gives meaning to percent-encoded.
    private static func uriEscaped(_ path: String) -> String {
        var result = ""
        for scalar in path.unicodeScalars {
            switch scalar {
            case "%": result += "%25"
            case "?": result += "%3f"
            case "#": result += "%23"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// The writer's exclusive lock: an `flock` on `mesh.sqlite-writer`, released when the store
/// closes or the process dies (so a kill -9 never leaves a stale lock behind).
final class WriterLock: Sendable {
    // The descriptor never changes; `released` makes closing it happen once (close(), then deinit).
    private let descriptor: Int32
    private let released = Atomic(false)

    init(databasePath: String) throws(StoreError) {
        self.descriptor = try FileIO.lockExclusively(
            databasePath + "-writer", text: "pid \(FileIO.processID) on \(FileIO.hostName)\n")
    }

    func release() {
        if !self.released.exchange(true, ordering: .acquiringAndReleasing) { FileIO.close(self.descriptor) }
    }

    deinit { self.release() }
}
