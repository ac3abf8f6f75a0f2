import Foundation
import MeshCore
import MeshStore
import Testing

@Suite("meshwork status through the built binary")
struct StatusCommandTests {
    @Test func statusOfARunningThenFinishedRunAndOfADirectoryThatIsNotOne() async throws {
        let binary = meshworkBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "no meshwork binary at \(binary)")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        try journal.appendPhysical([
            PhysicalEvent(kind: "joined", agent: "data-1#5", detail: "role=data pid=77 host=here", at: MonotonicTime(nanoseconds: 1)),
            PhysicalEvent(kind: "award", agent: "data-1#5", task: "relay/0/0", detail: "award=1", at: MonotonicTime(nanoseconds: 2)),
        ])
        let digest = try appendSynthetic(journal, batches: 2, size: 6)
        try store.registerUseCase(UseCase(id: "churn", name: "Churn", template: "churn.yaml", stage: "data", created: .zero))

        // The writer is open in this process: the CLI reads beside it (WAL).
        let running = try await onThread { try run(binary, ["status", path, "--json"]) }
        #expect(running.status == 0, "\(running.output)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(running.output.utf8)) as? [String: Any], "\(running.output)")
        #expect(object["state"] as? String == "running")
        #expect(object["digest"] as? String == digest.text)
        #expect(object["records"] as? Int == 12)
        #expect(object["scenario"] as? String == "relay")
        let handoffs = try #require(object["handoffs"] as? [String: Any])
        #expect(handoffs["done"] as? Int == 12)
        #expect((object["agents"] as? [[String: Any]])?.first?["health"] as? String == "up")
        #expect((object["use_cases"] as? [[String: Any]])?.first?["stage"] as? String == "data")

        try store.finish(digest: digest.text)
        try store.close()
        let finished = try await onThread { try run(binary, ["status", path, "--verify"]) }
        #expect(finished.status == 0, "\(finished.output)")
        #expect(finished.output.contains("relay (seed 7), finished"), "\(finished.output)")
        #expect(finished.output.contains("\(digest.text) (12 records), verified"), "\(finished.output)")
        #expect(finished.output.contains("churn: data (Churn)"))

        let notARun = try await onThread { try run(binary, ["status", directory]) }
        #expect(notARun.status == 2)
        #expect(notARun.output == "error: \(directory): not a run directory (no mesh.sqlite)\n")
    }
}
