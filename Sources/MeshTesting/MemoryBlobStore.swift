public import MeshAgents
public import MeshCore
import Synchronization

/// A ``BlobStorePort`` in memory, for tests of blob serving and fetching without files.
public final class MemoryBlobStore: BlobStorePort {
    private let blobs = Mutex<[BlobHash: [UInt8]]>([:])

    /// An empty store.
    public init() {}

    /// The hashes stored.
    public var hashes: Set<BlobHash> { self.blobs.withLock { Set($0.keys) } }

    public func contains(_ hash: BlobHash) -> Bool { self.blobs.withLock { $0[hash] != nil } }

    public func size(of hash: BlobHash) throws -> UInt64 {
        guard let bytes = self.blobs.withLock({ $0[hash] }) else { throw MemoryBlobStoreError(hash: hash) }
        return UInt64(bytes.count)
    }

    public func chunk(_ hash: BlobHash, offset: UInt64, length: Int) throws -> [UInt8] {
        guard let bytes = self.blobs.withLock({ $0[hash] }) else { throw MemoryBlobStoreError(hash: hash) }
        let start = Int(min(offset, UInt64(bytes.count)))
        return Array(bytes[start..<min(start + length, bytes.count)])
    }

    public func get(_ hash: BlobHash) throws -> [UInt8] {
        guard let bytes = self.blobs.withLock({ $0[hash] }) else { throw MemoryBlobStoreError(hash: hash) }
        return bytes
    }

    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> BlobHash {
        let hash = BlobHash(of: bytes)
        self.blobs.withLock { $0[hash] = bytes }
        return hash
    }
}

/// A ``MemoryBlobStore`` does not hold the blob.
public struct MemoryBlobStoreError: Error, CustomStringConvertible {
    /// The blob asked for.
    public var hash: BlobHash
    public var description: String { "\(self.hash): not in the memory store" }
}
