/// Asks a peer for a range of a blob (kind `blobRequest`, not on a reliable stream: the
/// fetcher's ``BlobFetch`` re-requests what does not come back).
public struct BlobRequest: WireBody {
    public static let kind = MessageKind.blobRequest
    /// The blob.
    public var hash: BlobHash
    /// The first byte wanted.
    public var offset: UInt64
    /// How many bytes, 1…``BlobLimits/maxChunkBytes``; the answer holds fewer at the blob's end.
    public var length: UInt32

    /// Makes a request; `length` must be 1…``BlobLimits/maxChunkBytes``.
    public init(hash: BlobHash, offset: UInt64, length: UInt32) {
        precondition(length >= 1 && Int(length) <= BlobLimits.maxChunkBytes, "blob request of \(length) bytes")
        self.hash = hash
        self.offset = offset
        self.length = length
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeRaw(self.hash.bytes)
        writer.write(self.offset)
        writer.write(self.length)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.hash = try BlobHash(reading: &reader, field: "blobRequest.hash")
        self.offset = try reader.readUInt64("blobRequest.offset")
        self.length = try reader.readUInt32("blobRequest.length")
        guard self.length >= 1 else {
            throw WireError(.invalidField, "blobRequest.length: 0 bytes asked, at least 1 needed")
        }
        guard Int(self.length) <= BlobLimits.maxChunkBytes else {
            throw WireError(.oversized, "blobRequest.length: \(self.length) bytes, at most \(BlobLimits.maxChunkBytes) allowed")
        }
    }
}

/// A range of a blob and the blob's total size (kind `blobChunk`), the answer to a ``BlobRequest``.
public struct BlobChunk: WireBody {
    public static let kind = MessageKind.blobChunk
    /// The blob.
    public var hash: BlobHash
    /// Where `bytes` start in the blob.
    public var offset: UInt64
    /// The blob's whole size in bytes.
    public var totalSize: UInt64
    /// The bytes, at most ``BlobLimits/maxChunkBytes``, ending at or before `totalSize`.
    public var bytes: [UInt8]

    /// Makes a chunk; the range must lie within the blob and be at most ``BlobLimits/maxChunkBytes``.
    public init(hash: BlobHash, offset: UInt64, totalSize: UInt64, bytes: [UInt8]) {
        precondition(bytes.count <= BlobLimits.maxChunkBytes, "blob chunk of \(bytes.count) bytes")
        precondition(offset <= totalSize && UInt64(bytes.count) <= totalSize - offset, "blob chunk beyond the blob's end")
        self.hash = hash
        self.offset = offset
        self.totalSize = totalSize
        self.bytes = bytes
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeRaw(self.hash.bytes)
        writer.write(self.offset)
        writer.write(self.totalSize)
        writer.writeBlob(self.bytes)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.hash = try BlobHash(reading: &reader, field: "blobChunk.hash")
        self.offset = try reader.readUInt64("blobChunk.offset")
        self.totalSize = try reader.readUInt64("blobChunk.totalSize")
        self.bytes = try reader.readBlob("blobChunk.bytes", maxLength: BlobLimits.maxChunkBytes)
        guard self.offset <= self.totalSize, UInt64(self.bytes.count) <= self.totalSize - self.offset else {
            throw WireError(
                .invalidField,
                "blobChunk.bytes: \(self.bytes.count) bytes at offset \(self.offset) end beyond the total size \(self.totalSize)")
        }
    }
}

/// A peer does not have a blob, or cannot serve the range asked (kind `blobMissing`).
public struct BlobMissing: WireBody {
    public static let kind = MessageKind.blobMissing
    /// The blob.
    public var hash: BlobHash
    /// Why, for people (at most ``BlobLimits/maxReasonBytes`` bytes of UTF-8; longer is cut).
    public var reason: String

    /// Makes a refusal; a reason over ``BlobLimits/maxReasonBytes`` bytes is shortened.
    public init(hash: BlobHash, reason: String) {
        self.hash = hash
        var reason = reason
        while reason.utf8.count > BlobLimits.maxReasonBytes { reason.removeLast() }
        self.reason = reason
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeRaw(self.hash.bytes)
        writer.write(self.reason)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.hash = try BlobHash(reading: &reader, field: "blobMissing.hash")
        self.reason = try reader.readString("blobMissing.reason", maxLength: BlobLimits.maxReasonBytes)
    }
}
