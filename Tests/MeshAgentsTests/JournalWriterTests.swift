import Dispatch
import Foundation
import GRDB
import Logging
import MeshCore
import MeshTesting
import Synchronization
import Testing

@testable import MeshAgents
@testable import MeshStore

/// The coordinator's journal writer: write-ahead on a thread of its own (layer 1/2: a real thread,
/// a real SQLite file for the failure, no network and no wall-clock limits).
@Suite("Journal writer: nothing sent before its commit")
struct JournalWriterTests {
    /// What happened, in order, as the sink and the transport saw it.
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { self.lines.withLock { $0.append(line) } }
        var all: [String] { self.lines.withLock { $0 } }
    }

    /// A sink that logs each commit, holding the first one until the test opens its gate, and
    /// tells the test when the writer's thread has entered it.
    final class GatedSink: JournalSink {
        let log: Log
        let gate = DispatchSemaphore(value: 0)
        let entered: AsyncStream<Void>
        private let enteredContinuation: AsyncStream<Void>.Continuation
        private let calls = Mutex(0)

        init(log: Log) {
            self.log = log
            (self.entered, self.enteredContinuation) = AsyncStream.makeStream()
        }

        func appendLogical(_ entries: [JournalEntry]) throws { try self.append(logical: entries, physical: []) }
        func appendPhysical(_ events: [PhysicalEvent]) throws { try self.append(logical: [], physical: events) }

        func append(logical entries: [JournalEntry], physical events: [PhysicalEvent]) throws {
            let call = self.calls.withLock { calls in
                calls += 1
                return calls
            }
            self.enteredContinuation.yield()
            // Only the writer's own thread ever blocks here, never Swift's pool.
            if call == 1 { self.gate.wait() }
            self.log.append("commit " + entries.map { "\($0.index)" }.joined(separator: ","))
        }
    }

    /// A transport that logs what is sent and delivers nothing.
    final class RecordingTransport: MeshTransport {
        let log: Log
        let inbound = InboundQueue()
        init(log: Log) { self.log = log }
        func subscribe(_ topic: Topic) throws(TransportError) {}
        func unsubscribe(_ topic: Topic) throws(TransportError) {}
        func send(_ messages: [WireMessage]) throws(TransportError) {
            let texts = messages.map { String(decoding: $0.payload, as: UTF8.self) }
            self.log.append("send " + texts.joined(separator: ","))
        }
        func shutdown() async { self.inbound.finish() }
    }

    static let logger = Logger(label: "journal-writer-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func message(_ text: String) -> WireMessage {
        WireMessage(topic: .agent(AgentID(unchecked: "data-1")), payload: Array(text.utf8))
    }

    @Test func aBatchIsSentOnlyAfterItsCommitAndEveryEarlierOne() async throws {
        let log = Log()
        let sink = GatedSink(log: log)
        let writer = JournalWriter(
            sink: sink, transport: RecordingTransport(log: log), clock: ManualClock(), logger: Self.logger)
        writer.start { error in Issue.record("no commit fails here: \(error)") }
        var digest = JournalDigest()
        let records = JournalWorkload.entries(count: 3, continuing: &digest)

        try writer.submit(JournalWriter.Batch(logical: [records[0]], messages: [Self.message("a")]))
        var entered = sink.entered.makeAsyncIterator()
        _ = await entered.next()
        // The writer's thread is inside the first commit, held there: whatever is submitted now
        // waits, including a batch with messages and no records of its own, and one the caller
        // would commit itself if nothing were pending.
        try writer.submit(JournalWriter.Batch(logical: [records[1]], messages: [Self.message("b")]), commitHere: true)
        try writer.submit(JournalWriter.Batch(messages: [Self.message("c")]))
        try writer.submit(JournalWriter.Batch(logical: [records[2]], messages: [Self.message("d")]))
        #expect(log.all.isEmpty, "nothing may be sent or logged while the first commit is open: \(log.all)")

        sink.gate.signal()
        await writer.close()
        // One commit for the three batches queued behind the first (group commit), then their
        // messages in the order they were produced.
        #expect(log.all == ["commit 0", "send a", "commit 1,2", "send b,c,d"])

        // After close, batches are written and sent on the caller's thread, still commit first.
        let more = JournalWorkload.entries(count: 1, continuing: &digest)
        try writer.submit(JournalWriter.Batch(logical: more, messages: [Self.message("e")]))
        #expect(log.all.suffix(2) == ["commit 3", "send e"])
    }

    @Test func withNothingPendingABatchGoesOnTheCallersThread() async throws {
        let log = Log()
        let sink = GatedSink(log: log)
        sink.gate.signal()  // the first commit is not held
        let writer = JournalWriter(
            sink: sink, transport: RecordingTransport(log: log), clock: ManualClock(), logger: Self.logger)
        writer.start { error in Issue.record("no commit fails here: \(error)") }
        // Nothing is queued and the thread is idle: a heartbeat has nothing to wait for, and a
        // caller that commits itself has its messages sent right after its commit.
        try writer.submit(JournalWriter.Batch(messages: [Self.message("heartbeat")]))
        #expect(log.all == ["send heartbeat"])
        var digest = JournalDigest()
        let records = JournalWorkload.entries(count: 1, continuing: &digest)
        try writer.submit(JournalWriter.Batch(logical: records, messages: [Self.message("ack")]), commitHere: true)
        #expect(log.all == ["send heartbeat", "commit 0", "send ack"])
        await writer.close()
    }

    @Test func aFullDatabaseFailsTheCommitSendsNothingAndNamesTheFile() async throws {
        let parent = FileManager.default.temporaryDirectory
            .appendingPathComponent("journal-writer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let store = try RunStore.create(at: parent, run: RunInfo(id: "full-0001", scenario: "relay", seed: 1))
        defer { try? store.close() }
        // The database may not grow by a single page: the next commit that needs one fails with
        // SQLITE_FULL, as on a full disk.
        try store.write("cannot cap the database") { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let log = Log()
        let failures = Mutex<[String]>([])
        let (failed, failedContinuation) = AsyncStream<Void>.makeStream()
        let writer = JournalWriter(
            sink: SQLiteJournal(store), transport: RecordingTransport(log: log), clock: ManualClock(),
            logger: Self.logger)
        writer.start { error in
            failures.withLock { $0.append("\(error)") }
            failedContinuation.yield()
        }

        var digest = JournalDigest()
        var entries = JournalWorkload.entries(count: 50, continuing: &digest)
        entries[0].payload = [UInt8](repeating: 0xAB, count: 64 << 10)  // needs new pages for sure
        try writer.submit(JournalWriter.Batch(logical: entries, messages: [Self.message("award")]))
        var iterator = failed.makeAsyncIterator()
        _ = await iterator.next()

        let failure = try #require(failures.withLock { $0 }.first)
        #expect(failures.withLock { $0.count } == 1)
        #expect(failure.hasPrefix(parent + "/mesh.sqlite: cannot append 50 logical records"), "\(failure)")
        #expect(failure.contains("disk is full"), "\(failure)")
        #expect(log.all.isEmpty, "nothing may be sent after a failed commit: \(log.all)")
        // Every later batch is refused with the same error, and nothing of it is sent either.
        #expect(throws: StoreError.self) {
            try writer.submit(JournalWriter.Batch(messages: [Self.message("heartbeat")]))
        }
        await writer.close()
        #expect(log.all.isEmpty)
        #expect((writer.failure as? StoreError)?.code == .diskFull)
        #expect(try store.readJournal().entries.isEmpty, "the failed transaction left nothing behind")
    }
}
