import ArgumentParser
import Foundation
import MeshCore
import MeshStore

/// `meshwork store-torture RUN_DIR` (hidden): appends synthetic journal batches to a run
/// database forever (or `--batches` times), printing `ACK <last index>` after each commit. The
/// crash tests SIGKILL it mid-transaction and check that every acknowledged record survived.
struct StoreTortureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-torture",
        abstract: "Append synthetic journal batches, acknowledging each commit on stdout (crash tests).",
        shouldDisplay: false
    )

    @Argument(help: "A run directory (created, or resumed when it holds a database).")
    var runDirectory: String

    @Option(help: "Records per batch (one transaction each).")
    var batch: Int = 500

    @Option(help: "Batches to append before exiting (0: until killed).")
    var batches: Int = 0

    func run() throws {
        do {
            try FileManager.default.createDirectory(atPath: self.runDirectory, withIntermediateDirectories: true)
            let exists = FileManager.default.fileExists(atPath: self.runDirectory + "/" + RunStore.fileName)
            let store =
                exists
                ? try RunStore.open(at: self.runDirectory)
                : try RunStore.create(at: self.runDirectory, run: RunInfo(id: "torture", scenario: "torture", seed: 1))
            let journal = SQLiteJournal(store)
            // Continue the digest chain from what is stored, as a resumed coordinator does.
            var digest = try store.readJournal().recomputed
            var done = 0
            while self.batches == 0 || done < self.batches {
                try journal.appendLogical(JournalWorkload.entries(count: self.batch, continuing: &digest))
                // Unbuffered: the parent must see the acknowledgement before it kills us.
                try FileHandle.standardOutput.write(contentsOf: Data("ACK \(digest.count - 1)\n".utf8))
                done += 1
            }
            try store.close()
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
