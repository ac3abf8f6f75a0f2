import Foundation
import GRDB
import MeshCore
import MeshStore
import Testing

@Suite("SQLiteJournal: append, read back, check")
struct JournalTests {
    @Test func appendedRecordsReadBackInOrderWithTheSameDigest() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        var written: [JournalEntry] = []
        // Odd shapes too: empty fields, unicode, quotes and control characters in values.
        let special = LogicalRecord(
            time: .seconds(3), kind: "relay.token", subject: "relay/000000/0",
            fields: [.init("quote\"back\\slash", "line\nbreak\ttab\u{1}é🦊"), .init("", "")])
        written.append(JournalEntry(index: 0, record: special, digest: digest.append(special)))
        let empty = LogicalRecord(time: .seconds(3), kind: "run.started", subject: "relay")
        written.append(JournalEntry(index: 1, record: empty, digest: digest.append(empty)))
        try journal.appendLogical(written)
        let more = JournalWorkload.entries(count: 500, continuing: &digest)
        try journal.appendLogical(more)
        written += more

        let reader = try RunStore.openReadOnly(at: path)
        let back = try reader.readJournal()
        #expect(back.entries == written)
        #expect(back.recomputed == digest)
        #expect(back.recorded == digest.text)
        #expect(try reader.journalHead().count == 502)
        #expect(try reader.journalHead().digest == digest.text)
        #expect(back.taskCounts.distinct == 500)
        #expect(back.taskCounts.duplicates == 0)
    }

    @Test func anAlteredRecordIsReportedAtItsPosition() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        try appendSynthetic(SQLiteJournal(store), batches: 2, size: 50)
        try store.close()

        let database = try DatabaseQueue(path: path + "/mesh.sqlite")
        try database.write { try $0.execute(sql: "UPDATE logical_journal SET subject = 'relay/forged/0' WHERE position = 57") }
        try database.close()

        let error = storeError { _ = try RunStore.openReadOnly(at: path).readJournal() }
        #expect(error?.code == .digestMismatch)
        #expect(error?.description.contains("position 57") == true, "\(String(describing: error))")
        #expect(error?.description.contains("mesh.sqlite") == true)

        let database2 = try DatabaseQueue(path: path + "/mesh.sqlite")
        try database2.writeWithoutTransaction {
            try $0.execute(sql: "PRAGMA foreign_keys = OFF")
            try $0.execute(sql: "DELETE FROM logical_journal WHERE position = 12")
        }
        try database2.close()
        let gap = storeError { _ = try RunStore.openReadOnly(at: path).readJournal() }
        #expect(gap?.code == .journalOrder)
        #expect(gap?.description.contains("position 12 is missing") == true, "\(String(describing: gap))")
    }

    @Test func reappendingStoredEntriesIsANoOpAndAGapOrADifferentRecordIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        let first = JournalWorkload.entries(count: 10, continuing: &digest)
        try journal.appendLogical(first)
        // A resumed coordinator re-journals what it re-derived: same digests, skipped.
        try journal.appendLogical(Array(first[5...]))
        let next = JournalWorkload.entries(count: 5, continuing: &digest)
        try journal.appendLogical(Array(first[8...]) + next)

        // A gap: index 20 when 15 is next.
        var ahead = digest
        _ = JournalWorkload.entries(count: 5, continuing: &ahead)
        let gap = storeError { try journal.appendLogical(JournalWorkload.entries(count: 1, continuing: &ahead)) }
        #expect(gap?.code == .journalOrder)
        // A different record at a stored index.
        var forged = JournalDigest()
        let other = LogicalRecord(time: .zero, kind: "forged", subject: "x")
        let conflict = storeError {
            try journal.appendLogical([JournalEntry(index: 3, record: other, digest: forged.append(other))])
        }
        #expect(conflict?.code == .journalOrder)
        #expect(conflict?.description.contains("position 3") == true)

        // A fresh sink on a re-opened store continues where the journal stops.
        try store.close()
        let resumed = try RunStore.open(at: path)
        try SQLiteJournal(resumed).appendLogical(JournalWorkload.entries(count: 5, continuing: &digest))
        let back = try resumed.readJournal()
        #expect(back.entries.count == 20)
        #expect(back.recomputed == digest)
    }

    /// A coordinator's flush writes both journals in one transaction: all of it lands, or (a gap
    /// in the logical records) none of it, not even the physical events beside it.
    @Test func logicalAndPhysicalOfOneFlushCommitTogether() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        let award = PhysicalEvent(kind: "award", agent: "data-1#1", task: "relay/0/0", detail: "award=1", at: MonotonicTime(nanoseconds: 1))
        try journal.append(logical: JournalWorkload.entries(count: 10, continuing: &digest), physical: [award, award])

        var ahead = digest
        _ = JournalWorkload.entries(count: 3, continuing: &ahead)
        let gap = storeError { try journal.append(logical: JournalWorkload.entries(count: 1, continuing: &ahead), physical: [award]) }
        #expect(gap?.code == .journalOrder)
        #expect(gap?.description.contains("a gap") == true, "\(String(describing: gap))")
        // Physical events alone, and the journal going on where it stopped.
        try journal.append(logical: [], physical: [award])
        try journal.append(logical: JournalWorkload.entries(count: 2, continuing: &digest), physical: [])

        let reader = try RunStore.openReadOnly(at: path)
        #expect(try reader.readJournal().entries.count == 12)
        #expect(try reader.readJournal().recomputed == digest)
        #expect(try reader.physicalEvents(kind: "award").count == 3, "the failed flush left no physical event")
    }

    @Test func resultsAreKeyedByTaskAndStepAndDuplicatesAreCounted() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        let done = LogicalRecord(time: .seconds(1), kind: "task.done", subject: "relay/1/0", fields: [.init("work", "relay"), .init("output", "aa")])
        let again = LogicalRecord(time: .seconds(2), kind: "task.done", subject: "relay/1/0", fields: [.init("work", "relay"), .init("output", "bb")])
        let failed = LogicalRecord(time: .seconds(3), kind: "task.failed", subject: "relay/2/0", fields: [.init("work", "relay"), .init("reason", "no bidder")])
        try journal.appendLogical([done, again, failed].enumerated().map { JournalEntry(index: UInt64($0.offset), record: $0.element, digest: digest.append($0.element)) })

        let back = try store.readJournal()
        #expect(back.taskCounts.distinct == 2)
        #expect(back.taskCounts.duplicates == 1)
        let rows = try DatabaseQueue(path: path + "/mesh.sqlite", configuration: { var c = Configuration(); c.readonly = true; return c }())
            .read { try Row.fetchAll($0, sql: "SELECT task, step, status, output_sha256, journal_position FROM task_results ORDER BY task") }
        #expect(rows.count == 2)
        #expect(rows[0]["output_sha256"] as String? == "aa", "the first result stands")
        #expect(rows[0]["journal_position"] as Int64 == 0)
        #expect(rows[1]["status"] as String == "failed")
    }

    @Test func physicalEventsKeepTheAgentsTable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        try journal.appendPhysical([
            PhysicalEvent(kind: "joined", agent: "data-1#100", detail: "role=data pid=4242 host=node a", at: MonotonicTime(nanoseconds: 5)),
            PhysicalEvent(kind: "joined", agent: "model-1#101", detail: "role=model pid=4243 host=node-a", at: MonotonicTime(nanoseconds: 6)),
            PhysicalEvent(kind: "award", agent: "data-1#100", task: "relay/0/0", detail: "award=1", at: MonotonicTime(nanoseconds: 7)),
            PhysicalEvent(kind: "award", agent: "model-1#101", task: "relay/0/1", detail: "award=2", at: MonotonicTime(nanoseconds: 8)),
        ])
        var digest = JournalDigest()
        let done = LogicalRecord(time: .seconds(1), kind: "task.done", subject: "relay/0/0", fields: [.init("work", "relay")])
        try journal.appendLogical([JournalEntry(index: 0, record: done, digest: digest.append(done))])
        try journal.appendPhysical([
            PhysicalEvent(kind: "departed", agent: "model-1#101", detail: "died", at: MonotonicTime(nanoseconds: 9)),
        ])

        let status = try RunStore.openReadOnly(at: path).status()
        #expect(status.state == .running, "the writer holds the run")
        #expect(status.agents.count == 2)
        #expect(status.agents[0].id == "data-1")
        #expect(status.agents[0].host == "node a")
        #expect(status.agents[0].pid == 4242)
        #expect(status.agents[0].health == "up")
        #expect(status.agents[0].lastSeen != nil)
        #expect(status.agents[1].health == "departed (died)")
        #expect(status.handoffs.done == 1)
        #expect(status.handoffs.inFlight == 1)
        #expect(status.records == 1)
        #expect(status.digest == digest.text)

        try store.finish(digest: digest.text)
        try store.close()
        let finished = try RunStore.openReadOnly(at: path).status()
        #expect(finished.state == .finished)
        #expect(finished.digest == digest.text)
    }

    @Test func aSecondWriterIsRefusedAtOnceAndAKilledOneLeavesNoLock() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let error = storeError { _ = try RunStore.open(at: path) }
        #expect(error?.code == .busy)
        #expect(error?.description.contains("pid \(ProcessInfo.processInfo.processIdentifier)") == true, "\(String(describing: error))")
        #expect(try RunStore.openReadOnly(at: path).status().state == .running)
        try store.close()
        #expect(try RunStore.openReadOnly(at: path).status().state == .interrupted, "no end recorded, no writer")
        let again = try RunStore.open(at: path)
        #expect(try again.runInfo().writerPID == ProcessInfo.processInfo.processIdentifier)
    }

    /// Prints appends/s for a few batch sizes, NORMAL and FULL; asserts nothing about speed.
    @Test func throughputOfBatchedAppends() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for durability in [RunStore.Durability.processCrash, .powerLoss] {
            for (batch, batches) in [(1, 2_000), (100, 200), (1_000, 100), (10_000, 10)] {
                let path = "\(directory)/\(durability)-\(batch)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                let store = try RunStore.create(
                    at: path, run: RunInfo(id: "bench", scenario: "bench", seed: 1), options: .init(durability: durability))
                let journal = SQLiteJournal(store)
                var digest = JournalDigest()
                let prepared = (0..<batches).map { _ in JournalWorkload.entries(count: batch, continuing: &digest) }
                let clock = ContinuousClock()
                let elapsed = try clock.measure {
                    for entries in prepared { try journal.appendLogical(entries) }
                }
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                print("store-throughput durability=\(durability) batch=\(batch) records=\(batch * batches) records_per_s=\(Int(Double(batch * batches) / seconds))")
                #expect(try store.journalHead().count == UInt64(batch * batches))
            }
        }
    }
}
