import ArgumentParser
import Foundation
import MeshCore
import MeshStore

#if canImport(Glibc)
import Glibc
#endif

/// `meshwork store-bench` (hidden): logical records appended per second through `SQLiteJournal`,
/// for batch sizes and both durabilities (docs/STORE.md lists the figures).
struct StoreBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-bench",
        abstract: "Measure journal appends per second into a temporary run database.",
        shouldDisplay: false
    )

    @Option(help: "Records per batch (one transaction each); repeat for several.")
    var batch: [Int] = [1, 10, 100, 1_000, 10_000]

    @Option(help: "Records to append per measurement.")
    var records: Int = 200_000

    @Option(help: "Where to put the temporary databases (removed afterwards).")
    var directory: String = NSTemporaryDirectory()

    func run() throws {
        for durability in [RunStore.Durability.processCrash, .powerLoss] {
            for batch in self.batch {
                let count = batch == 1 ? min(self.records, 20_000) : self.records
                let path = "\(self.directory)/meshwork-store-bench-\(ProcessInfo.processInfo.processIdentifier)-\(batch)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: path) }
                let store = try RunStore.create(
                    at: path, run: RunInfo(id: "bench", scenario: "bench", seed: 1), options: .init(durability: durability))
                let journal = SQLiteJournal(store)
                var digest = JournalDigest()
                let prepared = (0..<(count / batch)).map { _ in JournalWorkload.entries(count: batch, continuing: &digest) }
                let cpuBefore = Self.processCPUSeconds()
                let elapsed = try ContinuousClock().measure {
                    for entries in prepared { try journal.appendLogical(entries) }
                }
                let cpu = Self.processCPUSeconds() - cpuBefore
                try store.close()
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let synchronous = durability == .powerLoss ? "FULL" : "NORMAL"
                let total = Double(prepared.count * batch)
                // On a shared machine wall time counts other processes' work too; CPU time is
                // this process's own (user + system, fsync waits excluded).
                print(
                    "synchronous=\(synchronous) batch=\(batch) records=\(prepared.count * batch) "
                        + "records_per_s=\(Int(total / seconds)) commits_per_s=\(Int(Double(prepared.count) / seconds)) "
                        + "records_per_cpu_s=\(cpu > 0 ? Int(total / cpu) : 0)")
            }
        }
    }

    /// User + system CPU time of this process so far.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
