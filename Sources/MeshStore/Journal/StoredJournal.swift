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
                db, sql: "SELECT position, time_us, kind, subject, fields, digest FROM logical_journal ORDER BY position")
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
                journal.entries.append(JournalEntry(index: UInt64(position), record: record, digest: digest))
                journal.recorded = "sha256:" + stored
            }
            return journal
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
