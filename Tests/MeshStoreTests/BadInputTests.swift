import Foundation
import GRDB
import MeshCore
import MeshStore
import Testing

@Suite("Bad input: one-line errors naming the file, nothing acknowledged lost")
struct BadInputTests {
    @Test func aDirectoryThatIsNotARun() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = storeError { _ = try RunStore.openReadOnly(at: directory + "/nope") }
        #expect(missing?.code == .notARun)
        #expect(missing?.description == "\(directory)/nope: not a run directory (no such directory)")
        let empty = storeError { _ = try RunStore.openReadOnly(at: directory) }
        #expect(empty?.code == .notARun)
        #expect(empty?.description == "\(directory): not a run directory (no mesh.sqlite)")
        let writer = storeError { _ = try RunStore.open(at: directory) }
        #expect(writer?.code == .notARun)
        try "x".write(toFile: directory + "/file", atomically: true, encoding: .utf8)
        #expect(storeError { _ = try RunStore.create(at: directory + "/file", run: RunInfo(id: "r", scenario: "s", seed: 1)) }?.code == .notARun)
    }

    @Test func creatingOverAnExistingRunIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        try appendSynthetic(SQLiteJournal(store), batches: 1, size: 10)
        try store.close()
        let error = storeError { _ = try RunStore.create(at: path, run: RunInfo(id: "again", scenario: "s", seed: 1)) }
        #expect(error?.code == .alreadyExists)
        #expect(try RunStore.openReadOnly(at: path).readJournal().entries.count == 10)
    }

    @Test func aDatabaseFromANewerSchemaIsRefusedAndLeftAlone() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        try appendSynthetic(SQLiteJournal(store), batches: 1, size: 10)
        try store.close()
        let database = try DatabaseQueue(path: path + "/mesh.sqlite")
        try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try database.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/mesh.sqlite"))

        for open in [{ _ = try RunStore.openReadOnly(at: path) }, { _ = try RunStore.open(at: path) }] {
            let error = storeError(open)
            #expect(error?.code == .newerSchema)
            #expect(error?.description.contains("mesh.sqlite: schema version 99 is newer than this meshwork understands (\(RunStore.schemaVersion))") == true, "\(String(describing: error))")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/mesh.sqlite")) == before, "the file was not touched")
    }

    @Test func aFileThatIsNotARunDatabase() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = directory + "/text"
        try FileManager.default.createDirectory(atPath: text, withIntermediateDirectories: true)
        try String(repeating: "not a database\n", count: 100).write(toFile: text + "/mesh.sqlite", atomically: true, encoding: .utf8)
        let notSQLite = storeError { _ = try RunStore.openReadOnly(at: text) }
        #expect(notSQLite?.code == .notADatabase)
        #expect(notSQLite?.description == "\(text)/mesh.sqlite: not an SQLite database (no SQLite header)")
        #expect(storeError { _ = try RunStore.open(at: text) }?.code == .notADatabase)

        let foreign = directory + "/foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        let database = try DatabaseQueue(path: foreign + "/mesh.sqlite")
        try database.write { try $0.execute(sql: "CREATE TABLE t (x)") }
        try database.close()
        let other = storeError { _ = try RunStore.openReadOnly(at: foreign) }
        #expect(other?.code == .notADatabase)
        #expect(other?.description.contains("not a Meshwork run") == true)

        let empty = directory + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: empty + "/mesh.sqlite", contents: Data()))
        #expect(storeError { _ = try RunStore.openReadOnly(at: empty) }?.code == .corrupt)
    }

    @Test func aTruncatedDatabase() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        try appendSynthetic(SQLiteJournal(store), batches: 10, size: 200)
        try store.close()
        let file = path + "/mesh.sqlite"
        let size = try #require(FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()

        for open in [{ _ = try RunStore.openReadOnly(at: path).readJournal() }, { _ = try RunStore.open(at: path) }] {
            let error = storeError(open)
            #expect(error?.code == .corrupt)
            #expect(error?.description.hasPrefix("\(file): the database file is truncated") == true, "\(String(describing: error))")
        }
    }

    @Test func aCorruptDatabase() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)
        try appendSynthetic(SQLiteJournal(store), batches: 10, size: 200)
        try store.close()
        let file = path + "/mesh.sqlite"
        // Scribble over the middle pages (the journal's b-tree), keeping the header intact.
        let handle = try #require(FileHandle(forUpdatingAtPath: file))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 3)
        try handle.write(contentsOf: Data((0..<Int(size / 3)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 13) }))
        try handle.close()

        let reading = storeError { _ = try RunStore.openReadOnly(at: path).readJournal() }
        #expect(reading?.code == .corrupt, "\(String(describing: reading))")
        #expect(reading?.description.hasPrefix(file + ": ") == true)
        #expect(reading?.description.contains("\n") == false)
        let resuming = storeError { _ = try RunStore.open(at: path) }
        #expect(resuming?.code == .corrupt, "\(String(describing: resuming))")
    }

    @Test(.enabled(if: Tmpfs.available, "needs root to mount a small tmpfs"))
    func aFullDiskFailsTheAppendAndKeepsEveryAcknowledgedRecord() throws {
        let disk = try Tmpfs(kilobytes: 1_024)
        defer { disk.unmount() }
        let (path, store) = try makeRun(in: disk.path)
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        var acknowledged: UInt64 = 0
        var failure: StoreError?
        for _ in 0..<1_000 {
            do {
                try journal.appendLogical(JournalWorkload.entries(count: 200, continuing: &digest))
                acknowledged = digest.count
            } catch let error as StoreError {
                failure = error
                break
            }
        }
        let error = try #require(failure, "the disk never filled")
        #expect(error.code == .diskFull, "\(error)")
        #expect(error.description.hasPrefix(path + "/mesh.sqlite: cannot append 200 logical records"), "\(error)")
        #expect(acknowledged > 0)

        // The writer is still usable for reading, and nothing acknowledged is gone.
        let back = try store.readJournal()
        #expect(back.entries.count == Int(acknowledged))
        #expect(try store.integrityCheck() == ["ok"])
        let artifacts = try ArtifactStore(runDirectory: path)
        let artifact = storeError { try artifacts.put([UInt8](repeating: 7, count: 2 << 20)) }
        #expect(artifact?.code == .diskFull)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path + "/artifacts/tmp").isEmpty, "no temporary file left")
        try? store.close()

        let reader = try RunStore.openReadOnly(at: path)
        #expect(try reader.integrityCheck() == ["ok"])
        #expect(try reader.readJournal().entries.count == Int(acknowledged))
    }

    @Test(.enabled(if: Tmpfs.available, "needs root to mount a small tmpfs"))
    func aReadOnlyDiskIsRefusedForWritingAndStillReadable() throws {
        let disk = try Tmpfs(kilobytes: 4_096)
        defer { disk.unmount() }
        let (path, store) = try makeRun(in: disk.path)
        let digest = try appendSynthetic(SQLiteJournal(store), batches: 3, size: 100)
        try store.finish(digest: digest.text)
        try store.close()
        let artifacts = try ArtifactStore(runDirectory: path)
        let hash = try artifacts.put(Array("weights".utf8))
        try FileManager.default.createDirectory(atPath: disk.path + "/fresh", withIntermediateDirectories: true)
        try disk.remountReadOnly()

        let resume = storeError { _ = try RunStore.open(at: path) }
        #expect(resume?.code == .readOnly, "\(String(describing: resume))")
        #expect(resume?.description.contains("Read-only file system") == true)
        let create = storeError { _ = try RunStore.create(at: disk.path + "/fresh", run: RunInfo(id: "f", scenario: "s", seed: 1)) }
        #expect(create?.code == .readOnly, "\(String(describing: create))")
        #expect(storeError { try artifacts.put([1, 2, 3]) }?.code == .readOnly)

        let reader = try RunStore.openReadOnly(at: path)
        #expect(try reader.readJournal().recomputed == digest)
        #expect(try reader.status().state == .finished)
        #expect(try artifacts.get(hash) == Array("weights".utf8))
    }
}
