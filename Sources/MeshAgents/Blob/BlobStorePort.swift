public import MeshCore

/// Where a process keeps blobs (datasets, weights) by content hash: the port the agents and the
/// coordinator serve and cache blobs through. The runtime implements it on MeshStore's
/// `ArtifactStore`; tests on memory.
///
/// Calls come from an actor and should be quick (a chunk at a time); throwing means the store
/// cannot do it now, and the caller answers or fails the transfer with the error's text.
public protocol BlobStorePort: Sendable {
    /// Whether the blob is stored.
    func contains(_ hash: BlobHash) -> Bool
    /// Its size in bytes; throws when it is not stored.
    func size(of hash: BlobHash) throws -> UInt64
    /// Up to `length` (≤ ``BlobLimits/maxChunkBytes``) bytes from `offset` (≤ the size); fewer at the end.
    func chunk(_ hash: BlobHash, offset: UInt64, length: Int) throws -> [UInt8]
    /// The whole blob, checked against its hash.
    func get(_ hash: BlobHash) throws -> [UInt8]
    /// Stores `bytes` durably and returns their hash; storing what is stored is a no-op.
    @discardableResult
    func put(_ bytes: [UInt8]) throws -> BlobHash
}

/// Answers blob requests from a store: the serving half of docs/WIRE.md "Blobs", shared by
/// ``Agent`` and ``Coordinator``.
enum BlobServer {
    /// The kind and body that answer `request`: a chunk, or a `blobMissing` naming why not.
    static func answer(_ request: BlobRequest, from store: (any BlobStorePort)?) -> (MessageKind, [UInt8]) {
        guard let store else {
            return (.blobMissing, BlobMissing(hash: request.hash, reason: "this participant serves no blobs").encoded())
        }
        guard store.contains(request.hash) else {
            return (.blobMissing, BlobMissing(hash: request.hash, reason: "no such blob").encoded())
        }
        do {
            let total = try store.size(of: request.hash)
            guard request.offset <= total else {
                return (
                    .blobMissing,
                    BlobMissing(hash: request.hash, reason: "offset \(request.offset) is past the end (\(total) bytes)").encoded()
                )
            }
            let length = Int(min(UInt64(request.length), total - request.offset))
            let bytes = length == 0 ? [] : try store.chunk(request.hash, offset: request.offset, length: length)
            guard bytes.count == length else {
                return (
                    .blobMissing,
                    BlobMissing(hash: request.hash, reason: "read \(bytes.count) of \(length) bytes at \(request.offset)").encoded()
                )
            }
            return (.blobChunk, BlobChunk(hash: request.hash, offset: request.offset, totalSize: total, bytes: bytes).encoded())
        } catch {
            return (.blobMissing, BlobMissing(hash: request.hash, reason: "cannot read it: \(error)").encoded())
        }
    }
}
