/// The constants of the compute node's protocol (docs/WIRE.md, "Compute protocol").
public enum ComputeProtocol {
    /// The protocol version every request and response header carries.
    public static let version: UInt16 = 1
    /// The first four bytes of a request, `"MWCQ"`.
    public static let requestMagic: [UInt8] = Array("MWCQ".utf8)
    /// The first four bytes of a response, `"MWCR"`.
    public static let responseMagic: [UInt8] = Array("MWCR".utf8)
    /// The first four bytes of a dataset blob, `"MWDS"`.
    public static let datasetMagic: [UInt8] = Array("MWDS".utf8)
}
