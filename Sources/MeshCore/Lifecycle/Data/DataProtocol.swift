/// The constants of the data agent's task bytes (docs/DATA.md, "Bytes").
///
/// Every message starts with a 4-byte magic and a u16 version, so a reader can refuse bytes meant
/// for another work or another version before decoding anything else.
public enum DataProtocol {
    /// The version every message carries.
    public static let version: UInt16 = 1
    /// A ``DiscoveryRequest``, `"MWDQ"`.
    public static let discoveryRequestMagic: [UInt8] = Array("MWDQ".utf8)
    /// A ``DiscoveryReport``, `"MWDR"`.
    public static let discoveryReportMagic: [UInt8] = Array("MWDR".utf8)
    /// A ``PrepareRequest``, `"MWPQ"`.
    public static let prepareRequestMagic: [UInt8] = Array("MWPQ".utf8)
    /// A ``PreparedDataset``, `"MWPD"`.
    public static let preparedDatasetMagic: [UInt8] = Array("MWPD".utf8)
    /// The most sources a discovery request may carry.
    public static let maximumSources = 4096

    static func writeHeader(_ magic: [UInt8], into writer: inout WireWriter) {
        writer.writeRaw(magic)
        writer.write(Self.version)
    }

    static func readHeader(_ magic: [UInt8], _ what: String, from reader: inout WireReader) throws(WireError) {
        let found = try reader.readRaw(4, "\(what).magic")
        guard found == magic else {
            throw WireError(
                .invalidField,
                "\(what).magic: \(Hex.encode(found)) is not \(String(decoding: magic, as: UTF8.self))"
            )
        }
        let version = try reader.readUInt16("\(what).version")
        guard version == Self.version else {
            throw WireError(.unknownVersion, "\(what).version: \(version); this build speaks \(Self.version)")
        }
    }

    /// Reads a use case id: 1-128 bytes of UTF-8 (it keys random streams and names records).
    static func readUseCaseID(_ field: String, from reader: inout WireReader) throws(WireError) -> String {
        let id = try reader.readString(field, maxLength: 128)
        guard !id.isEmpty else { throw WireError(.invalidField, "\(field): empty") }
        return id
    }
}
