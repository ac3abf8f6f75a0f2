import Foundation
import MeshStore
import Testing

@Suite("ArtifactStore: content-addressed files beside the database")
struct ArtifactTests {
    @Test func putGetContainsAndLayout() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ArtifactStore(runDirectory: directory)
        let bytes = Array("hello".utf8)
        let hash = try store.put(bytes)
        #expect(hash.hex == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(hash.description == "sha256:" + hash.hex)
        #expect(store.path(of: hash) == directory + "/artifacts/sha256/2c/" + hash.hex)
        #expect(store.contains(hash))
        #expect(try store.get(hash) == bytes)
        #expect(try store.put(bytes) == hash, "storing twice is a no-op")
        #expect(try store.put([]) == ContentHash(of: []))
        #expect(try store.get(ContentHash(of: [])) == [])
        #expect(ContentHash("sha256:" + hash.hex) == hash)
        #expect(ContentHash("xyz") == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path(of: hash))
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
    }

    @Test func aCorruptedOrMissingArtifactIsReported() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ArtifactStore(runDirectory: directory)
        let hash = try store.put(Array(repeating: 42, count: 3 << 20))
        let handle = try #require(FileHandle(forUpdatingAtPath: store.path(of: hash)))
        try handle.seek(toOffset: 2 << 20)
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        let error = storeError { _ = try store.get(hash) }
        #expect(error?.code == .artifactMismatch)
        #expect(error?.description.hasPrefix(store.path(of: hash) + ": the artifact's bytes hash to sha256:") == true)
        #expect(storeError { try store.verify(hash) }?.code == .artifactMismatch)
        let missing = ContentHash(of: [1, 2, 3])
        #expect(!store.contains(missing))
        #expect(storeError { _ = try store.get(missing) }?.code == .missingArtifact)
        #expect(storeError { _ = try ArtifactStore(runDirectory: directory + "/nope") }?.code == .notARun)
    }

    @Test func chunksReassembleOnAnotherStoreAndAreChecked() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let here = try ArtifactStore(root: directory + "/host-a")
        let there = try ArtifactStore(root: directory + "/host-b")
        let size = 3 * ArtifactStore.chunkSize + 12_345
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let hash = try here.put(bytes)
        try here.verify(hash)

        let incoming = try there.receive(hash, size: try here.size(of: hash))
        var offset: Int64 = 0
        var chunks = 0
        while offset < incoming.size {
            let chunk = try here.chunk(hash, offset: offset)
            #expect(chunk.count <= ArtifactStore.chunkSize)
            try incoming.write(chunk, at: offset)
            offset += Int64(chunk.count)
            chunks += 1
        }
        try incoming.finish()
        #expect(chunks == 4)
        #expect(try there.get(hash) == bytes)

        #expect(storeError { _ = try here.chunk(hash, offset: Int64(size) + 1) }?.code == .invalidArgument)
        #expect(storeError { _ = try here.chunk(hash, offset: 0, length: 8 << 20) }?.code == .invalidArgument)

        // Wrong bytes never appear under the name; out-of-order chunks are refused.
        let other = ContentHash(of: [9])
        let bad = try there.receive(other, size: 1)
        try bad.write([8], at: 0)
        #expect(storeError { try bad.finish() }?.code == .artifactMismatch)
        #expect(!there.contains(other))
        let skipping = try there.receive(other, size: 10)
        #expect(storeError { try skipping.write([1], at: 5) }?.code == .artifactMismatch)
        skipping.cancel()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/host-b/tmp").isEmpty)
    }
}
