/// The bytes of a weights file (`.mwnn`, docs/COMPUTE.md "Weights file"), fp32 or int8, as a
/// compute request or response carries a model.
///
/// MeshCore does not read them: the compute node does (MeshCompute's `WeightsFile`), checking the
/// magic, the sizes the header declares and the SHA-256 trailer. On the wire: u32 length (at most
/// ``ComputeLimits/maximumWeightsBytes``), then the file.
public struct SerializedWeights: Sendable, Hashable {
    /// The weights file.
    public var bytes: [UInt8]

    /// Wraps the bytes of a weights file.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Appends the length and the file.
    public func encode(into writer: inout WireWriter) {
        writer.writeBlob(self.bytes)
    }

    /// Reads a length-prefixed weights file of at most ``ComputeLimits/maximumWeightsBytes``.
    public init(from reader: inout WireReader, field: String) throws(WireError) {
        self.bytes = try reader.readBlob(field, maxLength: ComputeLimits.maximumWeightsBytes)
    }
}
