/// Feature rows and the class label of each, as a compute request carries a dataset.
///
/// On the wire: a ``TensorFrame`` of features, then u32 N and N i32 labels. The codec checks
/// structure only; the node checks meaning (N equal to the rows, every label one of the classes,
/// finite features) and names the row when it refuses.
///
/// The same bytes behind a 6-byte header are a **dataset blob**, the form a dataset takes in the
/// artifact store so requests can name it by hash:
///
/// ```swift
/// let blob = rows.encodedBlob()                 // "MWDS", u16 version 1, then the rows
/// let request = EvaluateRequest(model: .inline(weights), data: .blob(BlobHash(of: blob)))
/// ```
public struct LabeledRows: Sendable, Hashable {
    /// One row per sample.
    public var features: TensorFrame
    /// The class label of each row.
    public var labels: [Int]

    /// Rows and their labels.
    public init(features: TensorFrame, labels: [Int]) {
        self.features = features
        self.labels = labels
    }

    /// Appends the rows and labels.
    public func encode(into writer: inout WireWriter) {
        self.features.encode(into: &writer)
        ComputeCodec.writeLabels(self.labels, into: &writer)
    }

    /// Reads rows and labels, bounding every count.
    public init(from reader: inout WireReader, field: String) throws(WireError) {
        self.features = try TensorFrame(from: &reader, field: field + ".features")
        self.labels = try ComputeCodec.readLabels(field + ".labels", maximum: ComputeLimits.maximumRows, from: &reader)
    }

    /// The dataset blob: `"MWDS"`, u16 version (1), then the rows and labels.
    public func encodedBlob() -> [UInt8] {
        var writer = WireWriter(capacity: 6 + self.features.encodedSize + 4 + 4 * self.labels.count)
        writer.writeRaw(ComputeProtocol.datasetMagic)
        writer.write(ComputeProtocol.version)
        self.encode(into: &writer)
        return writer.bytes
    }

    /// Reads a dataset blob, rejecting a wrong magic or version and trailing bytes.
    public init(decodingBlob bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        let magic = try reader.readRaw(4, "dataset.magic")
        guard magic == ComputeProtocol.datasetMagic else {
            throw WireError(.invalidField, "dataset.magic: \(Hex.encode(magic)) is not MWDS")
        }
        let version = try reader.readUInt16("dataset.version")
        guard version == ComputeProtocol.version else {
            throw WireError(.unknownVersion, "dataset.version: \(version); this build reads \(ComputeProtocol.version)")
        }
        try self.init(from: &reader, field: "dataset")
        try reader.expectEnd("dataset blob")
    }
}
