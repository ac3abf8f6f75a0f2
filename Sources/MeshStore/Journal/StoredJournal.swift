import Foundation
public import MeshCore
import GRDB

/// A logical journal read back from a run database, checked record by record.
///
/// Reading recomputes the running digest from the stored records and compares it with the digest
/// stored at every row, so an altered record, an altered digest or a missing row is reported at its
/// position (``StoreError/Code/digestMismatch`` or ``StoreError/Code/journalOrder``).
public struct StoredJournal: Sendable {
    /// The entries in order: index, record and the digest stored after it.
    public var entries: [JournalEntry]
    /// The digest recomputed over the records.
    public var recomputed: JournalDigest
    /// The digest stored after the last record (`sha256:` + hex), nil when the journal is empty.
    public var recorded: String?

    /// The records, in order.
    public var records: [LogicalRecord] { self.entries.map(\.record) }

    /// Committed tasks: distinct task ids with a `task.done` or `task.failed` record, and records
    /// beyond the first per task id (which a correct run never has).
    public var taskCounts: (distinct: Int, duplicates: Int) {
        var seen = Set<String>()
        var duplicates = 0
        for entry in self.entries where entry.record.kind == "task.done" || entry.record.kind == "task.failed" {
            if !seen.insert(entry.record.subject).inserted { duplicates += 1 }
        }
        return (seen.count, duplicates)
    }
}

extension RunStore {
    /// Reads the whole logical journal in one snapshot and checks it (see ``StoredJournal``).
    public func readJournal() throws(StoreError) -> StoredJournal {
        let path = self.databasePath
        return try self.read("cannot read the logical journal") { db in
            var journal = StoredJournal(entries: [], recomputed: JournalDigest(), recorded: nil)
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT position, time_us, kind, subject, fields, digest, output FROM logical_journal
                    LEFT JOIN task_outputs ON task_outputs.journal_position = logical_journal.position ORDER BY position
                    """)
            while let row = try rows.next() {
                let position: Int64 = row[0]
                let expected = journal.recomputed.count
                guard position >= 0, UInt64(position) == expected else {
                    throw StoreError(
                        .journalOrder, path: path, "logical_journal position \(expected) is missing (next stored is \(position))")
                }
                let fieldsText: String = row[4]
                guard let fields = FieldsJSON.decode(fieldsText) else {
                    throw StoreError(.corrupt, path: path, "logical_journal position \(position): fields are not [name, value] pairs")
                }
                let time: Int64 = row[1]
                let record = LogicalRecord(
                    time: SimTime(microseconds: UInt64(clamping: time)), kind: row[2], subject: row[3], fields: fields)
                let digest = journal.recomputed.append(record)
                let stored: String = row[5]
                guard Hex.encode(digest) == stored else {
                    throw StoreError(
                        .digestMismatch, path: path,
                        "logical_journal position \(position): stored digest \(stored) differs from the recomputed \(Hex.encode(digest)) (the journal was altered)")
                }
                let output: [UInt8]? = (row[6] as Data?).map { Array($0) }
                journal.entries.append(JournalEntry(index: UInt64(position), record: record, digest: digest, payload: output))
                journal.recorded = "sha256:" + stored
            }
            return journal
        }
    }

    /// The highest award number each task was given, from the physical journal's `award` events
    /// (detail `award=N`): a resumed coordinator fences its re-awards above them.
    public func highestAwards() throws(StoreError) -> [TaskID: UInt64] {
        try self.read("cannot read the awards") { db in
            var awards: [TaskID: UInt64] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT task, detail FROM physical_journal WHERE kind = 'award'")
            while let row = try rows.next() {
                let taskText: String = row[0]
                let detail: String = row[1]
                guard let task = TaskID(taskText), let range = detail.range(of: "award="),
                    let award = UInt64(detail[range.upperBound...].prefix { $0.isNumber })
                else { continue }
                awards[task] = max(awards[task] ?? 0, award)
            }
            return awards
        }
    }

    /// The physical events of `kind`, oldest first, as (agent, task, detail).
    public func physicalEvents(kind: String) throws(StoreError) -> [(agent: String, task: String, detail: String)] {
        try self.read("cannot read the physical journal") { db in
            try Row.fetchAll(db, sql: "SELECT agent, task, detail FROM physical_journal WHERE kind = ? ORDER BY id", arguments: [kind])
                .map { (agent: $0[0], task: $0[1], detail: $0[2]) }
        }
    }

    /// The distinct OS processes (`host/pid`) that took part: every agent incarnation that
    /// joined and every coordinator that started.
    public func processes() throws(StoreError) -> Set<String> {
        try self.read("cannot read the processes") { db in
            var processes = Set<String>()
            let rows = try Row.fetchCursor(
                db, sql: "SELECT detail FROM physical_journal WHERE kind IN ('joined', 'coordinator-started')")
            while let row = try rows.next() {
                let detail: String = row[0]
                guard let pid = detail.range(of: "pid="), let host = detail.range(of: "host=") else { continue }
                let pidText = detail[pid.upperBound...].prefix { $0.isNumber }
                let hostText = detail[host.upperBound...].prefix { $0 != " " }
                processes.insert("\(hostText)/\(pidText)")
            }
            return processes
        }
    }

    /// How many logical records are stored, and the digest after the last (nil when empty);
    /// cheap (no recomputation), for status lines and resume.
    public func journalHead() throws(StoreError) -> (count: UInt64, digest: String?) {
        try self.read("cannot read the logical journal") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT position, digest FROM logical_journal ORDER BY position DESC LIMIT 1") else {
                return (0, nil)
            }
            let position: Int64 = row[0]
            let digest: String = row[1]
            return (UInt64(position) + 1, "sha256:" + digest)
        }
    }
}
