import Foundation
import MeshProcessTesting
import MeshStore

/// What a run's store says about its processes, for the process tests.
extension MeshworkBinary {
    /// The pids of the processes a run's physical journal says joined (empty before the database exists).
    static func joinedPIDs(runDirectory: String) -> [Int32] {
        self.pids(runDirectory: runDirectory, kinds: ["joined"])
    }

    /// Every pid the physical journal names: agents that joined and coordinators that started.
    static func startedPIDs(runDirectory: String) -> [Int32] {
        self.pids(runDirectory: runDirectory, kinds: ["joined", "coordinator-started"])
    }

    static func pids(runDirectory: String, kinds: [String]) -> [Int32] {
        guard FileManager.default.fileExists(atPath: runDirectory + "/mesh.sqlite"),
            let store = try? RunStore.openReadOnly(at: runDirectory)
        else { return [] }
        defer { try? store.close() }
        return kinds.flatMap { kind in
            ((try? store.physicalEvents(kind: kind)) ?? []).compactMap { event -> Int32? in
                guard let range = event.detail.range(of: "pid=") else { return nil }
                return Int32(event.detail[range.upperBound...].prefix { $0.isNumber })
            }
        }
    }

    /// How many logical records the run has journaled so far (0 before the database exists).
    static func journaledRecords(runDirectory: String) -> UInt64 {
        guard FileManager.default.fileExists(atPath: runDirectory + "/mesh.sqlite"),
            let store = try? RunStore.openReadOnly(at: runDirectory)
        else { return 0 }
        defer { try? store.close() }
        return (try? store.journalHead().count) ?? 0
    }

}
