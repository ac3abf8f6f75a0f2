public import MeshAgents
public import MeshCore
public import MeshStore

/// The ``BlobStorePort`` on MeshStore's `ArtifactStore`: a run's `artifacts/` for the
/// coordinator, a cache directory for an agent process.
public struct ArtifactBlobStore: BlobStorePort {
    /// The artifact store.
    public let artifacts: ArtifactStore

    /// A port on `artifacts`.
    public init(_ artifacts: ArtifactStore) {
        self.artifacts = artifacts
    }

    public func contains(_ hash: BlobHash) -> Bool {
        self.artifacts.contains(ContentHash(hash))
    }

    public func size(of hash: BlobHash) throws -> UInt64 {
        UInt64(try self.artifacts.size(of: ContentHash(hash)))
    }

    public func chunk(_ hash: BlobHash, offset: UInt64, length: Int) throws -> [UInt8] {
        try self.artifacts.chunk(ContentHash(hash), offset: Int64(offset), length: length)
    }

    public func get(_ hash: BlobHash) throws -> [UInt8] {
        try self.artifacts.get(ContentHash(hash))
    }

    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> BlobHash {
        BlobHash(try self.artifacts.put(bytes))
    }

    /// Where the blob `hash` is (or would be) stored.
    public func path(of hash: BlobHash) -> String {
        self.artifacts.path(of: ContentHash(hash))
    }
}

extension ContentHash {
    /// The artifact name of a blob hash (the same SHA-256).
    public init(_ hash: BlobHash) {
        self = ContentHash(hash.description)!
    }
}

extension BlobHash {
    /// The blob hash of an artifact name (the same SHA-256).
    public init(_ hash: ContentHash) {
        self = BlobHash(hash.description)!
    }
}
