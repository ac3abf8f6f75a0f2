import MeshAgents
import MeshCompute
import MeshCore
import Synchronization
import Testing

@testable import MeshServer

/// Versions kept as weights files in a blob store, decoded on demand through a bounded cache.
@Suite struct DecodedWeightsCacheTests {
    @Test func theCacheEvictsTheLeastRecentlyUsedBeyondItsCountAndBytes() throws {
        let model = WeightsFile.StoredModel.fp32(Fixtures.modelA)
        let keys = (0..<4).map { BlobHash(of: [UInt8($0)]) }
        var decodes = 0
        let decode = { () -> WeightsFile.StoredModel in
            decodes += 1
            return model
        }
        let byCount = DecodedWeightsCache(maximumCount: 2, maximumBytes: 1 << 20)
        _ = byCount.weights(for: keys[0], bytes: 10, decode: decode)
        _ = byCount.weights(for: keys[1], bytes: 10, decode: decode)
        _ = byCount.weights(for: keys[0], bytes: 10, decode: decode)  // a hit: key 1 is now the oldest
        _ = byCount.weights(for: keys[2], bytes: 10, decode: decode)
        #expect(decodes == 3)
        #expect(byCount.contains(keys[0]) && !byCount.contains(keys[1]) && byCount.contains(keys[2]))
        #expect(byCount.statistics == .init(count: 2, bytes: 20, hits: 1, decodes: 3, evictions: 1))

        let byBytes = DecodedWeightsCache(maximumCount: 100, maximumBytes: 250)
        for key in keys { _ = byBytes.weights(for: key, bytes: 100, decode: decode) }
        #expect(byBytes.statistics.count == 2 && byBytes.statistics.bytes == 200)
        #expect(!byBytes.contains(keys[0]) && !byBytes.contains(keys[1]) && byBytes.contains(keys[3]))
        // One entry larger than the bound is still kept alone: it is the one in use.
        _ = byBytes.weights(for: keys[0], bytes: 1_000, decode: decode)
        #expect(byBytes.statistics.count == 1 && byBytes.contains(keys[0]))

        // A failed decode keeps nothing.
        struct Failure: Error {}
        #expect(throws: Failure.self) { try byCount.weights(for: keys[3], bytes: 1) { () throws -> WeightsFile.StoredModel in throw Failure() } }
        #expect(!byCount.contains(keys[3]))
    }

    @Test func aStoredVersionReadAgainAfterEvictionDecodesToTheSameWeights() throws {
        let store = TestBlobStore()
        let cache = DecodedWeightsCache(maximumCount: 1)
        let files = Self.files(Fixtures.modelB)
        let stored = try ModelVersion(
            name: "digits", version: 2, weightsFiles: files, storedIn: store, cache: cache, standardizer: Fixtures.digits.scaler)
        let held = try ModelVersion(name: "digits", version: 2, weightsFiles: files, standardizer: Fixtures.digits.scaler)
        #expect(stored.precision == .int8 && stored.availablePrecisions == [.fp32, .int8])
        #expect(store.count == 2)
        #expect(cache.contains(BlobHash(of: files[1].bytes)))  // the serving (int8) model, decoded by the deploy

        // Another version's weights evict it; the next request reads and decodes the file again.
        _ = try ModelVersion(name: "other", version: 1, weightsFiles: [Self.files(Fixtures.modelA, "other@v1")[0]], storedIn: store, cache: cache)
        #expect(!cache.contains(BlobHash(of: files[1].bytes)))
        let rows = 5
        let values = Array(Fixtures.digits.rawTest.prefix(rows * 64))
        #expect(try stored.logits(rows: rows, values: values) == held.logits(rows: rows, values: values))
        #expect(cache.statistics.decodes == 1)
        guard case .int8(let int8)? = try stored.model(.int8), case .fp32(let fp32)? = try stored.model(.fp32) else {
            Issue.record("a stored version lost its weights")
            return
        }
        #expect(WeightsFile.encode(int8) == files[1].bytes && WeightsFile.encode(fp32) == files[0].bytes)
        #expect(stored.fp32 == Fixtures.modelB)
    }

    @Test func aMissingOrCorruptBlobIsAClearError() throws {
        let store = TestBlobStore()
        let cache = DecodedWeightsCache(maximumCount: 1)
        let files = Self.files(Fixtures.modelB)
        let version = try ModelVersion(name: "digits", version: 7, weightsFiles: files, storedIn: store, cache: cache)
        let int8 = BlobHash(of: files[1].bytes)

        store.replace(int8, with: Array(files[1].bytes.dropLast()) + [files[1].bytes.last! ^ 1])
        _ = try ModelVersion(name: "evict", version: 1, weightsFiles: [files[0]], storedIn: store, cache: cache)
        let corrupt = #expect(throws: RegistryError.self) { try version.model(.int8) }
        #expect(corrupt?.code == .weightsUnavailable)
        #expect(corrupt?.reason.contains("model 'digits' version 7: weights digits@v7.int8") == true)
        #expect(corrupt?.reason.contains("do not match their hash") == true)
        #expect(version.int8 == nil)
        #expect(throws: RegistryError.self) { try version.logits(rows: 1, values: [Float](repeating: 0, count: 64)) }

        store.remove(int8)
        let missing = #expect(throws: RegistryError.self) { try version.model(.int8) }
        #expect(missing?.code == .weightsUnavailable)
        #expect(missing?.reason.contains("cannot be read from the blob store") == true)
        #expect(missing?.reason.contains("\(int8)") == true)
        // The fp32 file is intact and still decodes.
        #expect(version.fp32 == Fixtures.modelB)
    }

    /// The fp32 and int8 weights files of `model`, named `NAME.fp32` and `NAME.int8`.
    static func files(_ model: MLP, _ name: String = "digits@v7") -> [(bytes: [UInt8], source: String)] {
        [(WeightsFile.encode(model), "\(name).fp32"), (WeightsFile.encode(QuantizedMLP(quantizing: model)), "\(name).int8")]
    }
}

/// A blob store whose blobs a test can remove or damage.
private final class TestBlobStore: BlobStorePort {
    private let blobs = Mutex<[BlobHash: [UInt8]]>([:])

    struct Missing: Error, CustomStringConvertible {
        var hash: BlobHash
        var description: String { "\(self.hash): no such blob" }
    }

    var count: Int { self.blobs.withLock { $0.count } }
    func replace(_ hash: BlobHash, with bytes: [UInt8]) { self.blobs.withLock { $0[hash] = bytes } }
    func remove(_ hash: BlobHash) { self.blobs.withLock { $0[hash] = nil } }

    func contains(_ hash: BlobHash) -> Bool { self.blobs.withLock { $0[hash] != nil } }
    func size(of hash: BlobHash) throws -> UInt64 { UInt64(try self.get(hash).count) }
    func chunk(_ hash: BlobHash, offset: UInt64, length: Int) throws -> [UInt8] {
        let bytes = try self.get(hash)
        let start = Int(min(offset, UInt64(bytes.count)))
        return Array(bytes[start..<min(start + length, bytes.count)])
    }
    func get(_ hash: BlobHash) throws -> [UInt8] {
        guard let bytes = self.blobs.withLock({ $0[hash] }) else { throw Missing(hash: hash) }
        return bytes
    }
    func put(_ bytes: [UInt8]) throws -> BlobHash {
        let hash = BlobHash(of: bytes)
        self.blobs.withLock { $0[hash] = bytes }
        return hash
    }
}
