public import Foundation
public import MeshCore
import GRDB
import Synchronization

/// The coordinator's journal sink on the run database: each call is one SQLite transaction,
/// durable (to the store's ``RunStore/Durability``) when it returns; ``append(logical:physical:)``
/// writes both journals of a coordinator batch in one.
///
/// ```swift
/// let store = try RunStore.create(at: run.path, run: RunInfo(id: run.id, scenario: name, seed: seed))
/// let coordinator = Coordinator(…, journal: SQLiteJournal(store))
/// ```
///
/// - Logical entries go to `logical_journal` in index order. The first call continues after the
///   last stored index; entries at indexes already stored must carry the same digest (a resumed
///   coordinator re-journaling what it re-derived) and are skipped; anything else — a gap, or a
///   different record at a stored index — throws ``StoreError/Code/journalOrder`` and writes
///   nothing. `task.done` and `task.failed` records also go to `task_results`, keyed by task and
///   step (the record's `work` field): a second result for the same key leaves the first in place
///   and only counts itself in `duplicates`.
/// - Physical events go to `physical_journal`, stamped with the wall clock at the call; `joined`
///   and `departed` events (detail `role=… pid=… host=…`, or the departure reason) also keep the
///   `agents` table up to date.
///
/// Call it from one thread at a time (the coordinator's journal writer, or its actor when that
/// writer is idle); it is `Sendable` so it can be handed over, and guards its own small state.
public final class SQLiteJournal: JournalSink {
    /// The store it writes to.
    public let store: RunStore
    private let wallClock: @Sendable () -> Date
    /// The next logical index to append, once known (read from the database on first use).
    private let nextIndex = Mutex<UInt64?>(nil)

    /// A sink appending to `store`, which must have been opened for writing.
    public init(_ store: RunStore, wallClock: @escaping @Sendable () -> Date = { Date() }) {
        precondition(!store.isReadOnly, "SQLiteJournal needs a store opened for writing")
        self.store = store
        self.wallClock = wallClock
    }

    public func appendLogical(_ entries: [JournalEntry]) throws {
        try self.append(logical: entries, physical: [])
    }

    public func appendPhysical(_ events: [PhysicalEvent]) throws {
        try self.append(logical: [], physical: events)
    }

    /// Appends both in one transaction: one commit (and one set of WAL pages) per coordinator batch.
    public func append(logical entries: [JournalEntry], physical events: [PhysicalEvent]) throws {
        guard !entries.isEmpty || !events.isEmpty else { return }
        let known = self.nextIndex.withLock { $0 }
        let path = self.store.databasePath
        let wall = events.isEmpty ? "" : WallTime.text(self.wallClock())
        let doing =
            entries.isEmpty
            ? "cannot append \(events.count) physical events"
            : "cannot append \(entries.count) logical records" + (events.isEmpty ? "" : " and \(events.count) physical events")
        let next = try self.store.write(doing) { db -> UInt64? in
            let next = entries.isEmpty ? nil : try Self.insertLogical(entries, known: known, path: path, in: db)
            try Self.insertPhysical(events, wall: wall, in: db)
            return next
        }
        // Only a committed transaction moves the cursor: a failed one left the database as it was.
        if let next { self.nextIndex.withLock { $0 = next } }
    }

    /// Inserts logical entries after the stored ones; returns the next index.
    private static func insertLogical(_ entries: [JournalEntry], known: UInt64?, path: String, in db: Database) throws -> UInt64 {
        var expected = try known ?? Self.storedCount(db)
        let insert = try RawInsert(
            db, "INSERT INTO logical_journal (position, time_us, kind, subject, fields, digest) VALUES (?, ?, ?, ?, ?, ?)")
        let result = try RawInsert(
            db,
            """
            INSERT INTO task_results (task, step, status, output_sha256, reason, time_us, journal_position)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task, step) DO UPDATE SET duplicates = duplicates + 1
            """)
        let output = try RawInsert(db, "INSERT INTO task_outputs (journal_position, output) VALUES (?, ?)")
        var fields: [UInt8] = []
        var digest: [UInt8] = []
        for entry in entries {
            FieldsJSON.hex(entry.digest, into: &digest)
            if entry.index < expected {
                let stored = try String.fetchOne(db, sql: "SELECT digest FROM logical_journal WHERE position = ?", arguments: [Int64(entry.index)])
                let appended = String(decoding: digest, as: UTF8.self)
                guard stored == appended else {
                    throw StoreError(
                        .journalOrder, path: path,
                        "logical_journal position \(entry.index) already holds a different record (stored digest \(stored ?? "none"), appended \(appended))")
                }
                continue
            }
            guard entry.index == expected else {
                throw StoreError(
                    .journalOrder, path: path, "logical record \(entry.index) appended where \(expected) was expected (a gap)")
            }
            let record = entry.record
            let position = Int64(entry.index)
            let time = Int64(clamping: record.time.microseconds)
            FieldsJSON.encode(record.fields, into: &fields)
            insert.reset()
            insert.bind(1, position)
            insert.bind(2, time)
            insert.bind(3, record.kind)
            insert.bind(4, record.subject)
            insert.bind(5, utf8: fields)
            insert.bind(6, utf8: digest)
            try insert.step()
            if record.kind == "task.done" || record.kind == "task.failed" {
                let done = record.kind == "task.done"
                // A second result for a task and step leaves the first in place and is counted.
                result.reset()
                result.bind(1, record.subject)
                result.bind(2, record.field("work") ?? "")
                result.bind(3, done ? "done" : "failed")
                result.bind(4, done ? record.field("output") : nil)
                result.bind(5, done ? nil : record.field("reason"))
                result.bind(6, time)
                result.bind(7, position)
                try result.step()
            }
            try RegistryProjection.apply(record, in: db)
            if let payload = entry.payload {
                output.reset()
                output.bind(1, position)
                output.bind(2, bytes: payload)
                try output.step()
            }
            expected += 1
        }
        return expected
    }

    private static func insertPhysical(_ events: [PhysicalEvent], wall: String, in db: Database) throws {
        guard !events.isEmpty else { return }
        let insert = try RawInsert(
            db, "INSERT INTO physical_journal (wall_at, monotonic_ns, kind, agent, task, detail) VALUES (?, ?, ?, ?, ?, ?)")
        for event in events {
            insert.reset()
            insert.bind(1, wall)
            insert.bind(2, Int64(clamping: event.monotonicNanoseconds))
            insert.bind(3, event.kind)
            insert.bind(4, event.agent)
            insert.bind(5, event.task)
            insert.bind(6, event.detail)
            try insert.step()
            switch event.kind {
            case "joined": try Self.recordJoined(event, at: wall, in: db)
            case "departed": try Self.recordDeparted(event, at: wall, in: db)
            default: break
            }
        }
    }

    static func storedCount(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT coalesce(max(position) + 1, 0) FROM logical_journal") ?? 0)
    }

    /// `agent` is `id#incarnation`.
    static func splitAgent(_ agent: String) -> (id: String, incarnation: Int64)? {
        guard let hash = agent.lastIndex(of: "#"), let incarnation = Int64(agent[agent.index(after: hash)...]) else { return nil }
        return (String(agent[..<hash]), incarnation)
    }

    private static func recordJoined(_ event: PhysicalEvent, at wall: String, in db: Database) throws {
        guard let (id, incarnation) = self.splitAgent(event.agent) else { return }
        var role = "", pid: Int64?, host: String?
        // `role=data pid=123 host=name`: host comes last and is taken whole.
        if let range = event.detail.range(of: "host=") { host = String(event.detail[range.upperBound...]) }
        for token in event.detail.split(separator: " ") {
            if token.hasPrefix("role=") { role = String(token.dropFirst(5)) }
            if token.hasPrefix("pid=") { pid = Int64(token.dropFirst(4)) }
        }
        try db.execute(
            sql: """
                INSERT INTO agents (agent_id, incarnation, role, pid, host, joined_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (agent_id, incarnation) DO NOTHING
                """,
            arguments: [id, incarnation, role, pid, host, wall])
    }

    private static func recordDeparted(_ event: PhysicalEvent, at wall: String, in db: Database) throws {
        guard let (id, incarnation) = self.splitAgent(event.agent) else { return }
        try db.execute(
            sql: "UPDATE agents SET departed_at = ?, departure = ? WHERE agent_id = ? AND incarnation = ? AND departed_at IS NULL",
            arguments: [wall, event.detail, id, incarnation])
    }
}
