/// The bounds of blob transfer over the mesh (docs/WIRE.md, "Blobs").
public enum BlobLimits {
    /// The largest chunk a request may ask for and a chunk may carry: 1 MiB, an eighth of
    /// `ZMQ_MAXMSGSIZE` (``Envelope/maxEncodedSize``), so a chunk with its envelope always fits.
    public static let maxChunkBytes = 1 << 20
    /// The longest reason a `blobMissing` carries, in bytes.
    public static let maxReasonBytes = 1024
}
