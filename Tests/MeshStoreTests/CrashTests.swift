import Foundation
import MeshCore
import MeshStore
import Testing

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

@Suite("kill -9 of a writer mid-transaction", .serialized)
struct CrashTests {
    /// 20 times: a `meshwork store-torture` child appends 500-record transactions back to back and
    /// acknowledges each commit; it is SIGKILLed after a varying number of acknowledgements (so
    /// almost always inside a transaction), then the database must pass `integrity_check` and hold
    /// every acknowledged record with its digest chain intact. Each round resumes the same run.
    @Test func everyAcknowledgedRecordSurvivesAndTheFileStaysSound() async throws {
        let binary = meshworkBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "no meshwork binary at \(binary)")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = directory + "/torture"

        // The blocking part (reading the child's pipe, waiting for it) runs on a thread of its own;
        // the expectations are checked back in the test's task.
        struct Round: Sendable {
            var acknowledged: UInt64?
            var killedBySignal: Bool
            var integrity: [String]
            var stored: Int
            var failure: String?
        }
        let rounds = try await onThread { () -> [Round] in
            var rounds: [Round] = []
            for round in 0..<20 {
                var result = Round(acknowledged: nil, killedBySignal: false, integrity: [], stored: -1)
                do {
                    let child = try Child(binary, ["store-torture", run, "--batch", "500"])
                    defer { child.kill() }
                    let wanted = 1 + (round * 7) % 13
                    for _ in 0..<wanted {
                        guard let line = child.readLine(timeout: 30), line.hasPrefix("ACK ") else { break }
                        result.acknowledged = UInt64(line.dropFirst(4))
                    }
                    child.kill()
                    result.killedBySignal = child.process.terminationReason == .uncaughtSignal
                    let store = try RunStore.openReadOnly(at: run)
                    result.integrity = try store.integrityCheck()
                    result.stored = try store.readJournal().entries.count
                } catch {
                    result.failure = "\(error)"
                }
                rounds.append(result)
                if result.failure != nil || result.acknowledged == nil { break }
            }
            return rounds
        }
        #expect(rounds.count == 20)
        for (number, round) in rounds.enumerated() {
            #expect(round.failure == nil, "round \(number): \(round.failure ?? "")")
            let last = try #require(round.acknowledged, "round \(number): the child acknowledged nothing")
            #expect(round.killedBySignal, "round \(number): killed, not exited")
            #expect(round.integrity == ["ok"], "round \(number)")
            #expect(round.stored > Int(last), "round \(number): acknowledged through \(last), stored \(round.stored)")
            #expect(round.stored % 500 == 0, "round \(number): a transaction is all or nothing")
            print("crash round \(number): acknowledged through index \(last), \(round.stored) records stored, integrity ok")
        }
    }
}
