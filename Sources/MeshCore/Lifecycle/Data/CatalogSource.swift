/// One entry of the data catalog (`agents/catalog.yaml`): where a dataset comes from, and the
/// facts compliance checks against a use case's ``DataPolicy``.
///
/// ```yaml
/// - id: digits
///   kind: csv
///   path: scenarios/data/digits.csv        # relative to the agent's working directory
///   label_column: label                    # the default
///   classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] # optional: a label outside them is an error
///   licence: CC-BY-4.0
///   pii: false
///   region: eu
///   description: 8x8 handwritten digits (UCI), 1797 rows
/// ```
///
/// `kind: synthetic` takes a `generator` (``GaussianMixture``) instead of a `path`; `kind: stream`
/// takes neither: its rows arrive inline with the request (monitoring windows).
public struct CatalogSource: Sendable, Hashable, Codable {
    /// The source's id: 1-64 bytes of letters, digits, `.`, `_` and `-`.
    public var id: String
    /// Where the rows come from.
    public var kind: Kind
    /// The header name of the label column (CSV sources); `label` by default.
    public var labelColumn: String
    /// The licence the data is distributed under, an SPDX-style id (`CC-BY-4.0`, `proprietary`).
    public var licence: String
    /// Whether the data holds personally identifiable information.
    public var pii: Bool
    /// The columns holding it, when known.
    public var piiColumns: [String]
    /// Where the data resides (`eu`, `us`, …).
    public var region: String
    /// What the data is, for people.
    public var description: String
    /// The class labels the source may hold, when declared; a row with another label is refused
    /// with its line and column, and the prepared dataset's classes are exactly these.
    public var classes: [Int]?
    /// The declared number of feature columns (the schema), for feasibility checks before any row
    /// is read; nil when not declared.
    public var features: Int?
    /// The declared number of rows, for cost estimates; nil when not declared.
    public var rows: Int?

    /// Where a source's rows come from.
    public enum Kind: Sendable, Hashable {
        /// A CSV file with a header row, its path relative to the data agent's working directory.
        case csv(path: String)
        /// Rows drawn by a seeded generator.
        case synthetic(GaussianMixture)
        /// A live stream whose windows arrive inline (``PrepareRequest/extraRows``).
        case stream

        /// `csv`, `synthetic` or `stream`, as the catalog writes it.
        public var name: String {
            switch self {
            case .csv: "csv"
            case .synthetic: "synthetic"
            case .stream: "stream"
            }
        }
    }

    /// A catalog entry.
    public init(
        id: String,
        kind: Kind,
        labelColumn: String = "label",
        licence: String,
        pii: Bool = false,
        piiColumns: [String] = [],
        region: String,
        description: String = "",
        classes: [Int]? = nil,
        features: Int? = nil,
        rows: Int? = nil
    ) {
        self.id = id
        self.kind = kind
        self.labelColumn = labelColumn
        self.licence = licence
        self.pii = pii
        self.piiColumns = piiColumns
        self.region = region
        self.description = description
        self.classes = classes
        self.features = features
        self.rows = rows
    }

    /// Whether `id` is a valid source id (1-64 bytes of `A-Z a-z 0-9 . _ -`).
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }

    /// Why this entry is unusable, or nil when it is fine.
    public var validationProblem: String? {
        guard Self.isValidID(self.id) else { return "id \"\(self.id)\": 1-64 letters, digits, '.', '_' or '-'" }
        switch self.kind {
        case .csv(let path):
            guard !path.isEmpty, path.utf8.count <= 1024 else { return "path: 1 to 1024 bytes" }
        case .synthetic(let generator):
            if let problem = generator.validationProblem { return "generator: \(problem)" }
        case .stream:
            break
        }
        guard !self.labelColumn.isEmpty, self.labelColumn.utf8.count <= 256 else { return "label_column: 1 to 256 bytes" }
        guard !self.licence.isEmpty, self.licence.utf8.count <= 256 else { return "licence: 1 to 256 bytes" }
        guard !self.region.isEmpty, self.region.utf8.count <= 256 else { return "region: 1 to 256 bytes" }
        guard self.description.utf8.count <= 4096 else { return "description: at most 4096 bytes" }
        guard self.piiColumns.count <= 1024, self.piiColumns.allSatisfy({ $0.utf8.count <= 256 }) else {
            return "pii_columns: at most 1024 names of at most 256 bytes"
        }
        if let features = self.features, !(1...1_000_000).contains(features) { return "features: 1 to 1000000" }
        if let rows = self.rows, !(1...1_000_000_000).contains(rows) { return "rows: 1 to 1000000000" }
        if let classes = self.classes {
            guard !classes.isEmpty, classes.count <= ComputeLimits.maximumClasses else {
                return "classes: 1 to \(ComputeLimits.maximumClasses) labels"
            }
            guard Set(classes).count == classes.count else { return "classes: a label appears twice" }
            guard classes.allSatisfy({ Int(Int32.min)...Int(Int32.max) ~= $0 }) else {
                return "classes: labels must fit in 32 bits"
            }
        }
        return nil
    }

    // MARK: Codable

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, path, generator
        case labelColumn = "label_column"
        case licence, pii
        case piiColumns = "pii_columns"
        case region, description, classes, features, rows
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        let kind = try container.decode(String.self, forKey: .kind)
        let path = try container.decodeIfPresent(String.self, forKey: .path)
        let generator = try container.decodeIfPresent(GaussianMixture.self, forKey: .generator)
        switch kind {
        case "csv":
            guard let path else {
                throw DecodingError.keyNotFound(
                    CodingKeys.path,
                    .init(codingPath: decoder.codingPath, debugDescription: "a csv source needs a path")
                )
            }
            guard generator == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .generator,
                    in: container,
                    debugDescription: "only a synthetic source has a generator"
                )
            }
            self.kind = .csv(path: path)
        case "synthetic":
            guard let generator else {
                throw DecodingError.keyNotFound(
                    CodingKeys.generator,
                    .init(codingPath: decoder.codingPath, debugDescription: "a synthetic source needs a generator")
                )
            }
            guard path == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .path,
                    in: container,
                    debugDescription: "only a csv source has a path"
                )
            }
            self.kind = .synthetic(generator)
        case "stream":
            guard path == nil, generator == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: path == nil ? .generator : .path,
                    in: container,
                    debugDescription: "a stream source has neither path nor generator"
                )
            }
            self.kind = .stream
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind,
                in: container,
                debugDescription: "csv, synthetic or stream, not '\(kind)'"
            )
        }
        self.labelColumn = try container.decodeIfPresent(String.self, forKey: .labelColumn) ?? "label"
        self.licence = try container.decode(String.self, forKey: .licence)
        self.pii = try container.decodeIfPresent(Bool.self, forKey: .pii) ?? false
        self.piiColumns = try container.decodeIfPresent([String].self, forKey: .piiColumns) ?? []
        self.region = try container.decode(String.self, forKey: .region)
        self.description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        self.classes = try container.decodeIfPresent([Int].self, forKey: .classes)
        self.features = try container.decodeIfPresent(Int.self, forKey: .features)
        self.rows = try container.decodeIfPresent(Int.self, forKey: .rows)
        if let problem = self.validationProblem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.kind.name, forKey: .kind)
        switch self.kind {
        case .csv(let path): try container.encode(path, forKey: .path)
        case .synthetic(let generator): try container.encode(generator, forKey: .generator)
        case .stream: break
        }
        try container.encode(self.labelColumn, forKey: .labelColumn)
        try container.encode(self.licence, forKey: .licence)
        try container.encode(self.pii, forKey: .pii)
        if !self.piiColumns.isEmpty { try container.encode(self.piiColumns, forKey: .piiColumns) }
        try container.encode(self.region, forKey: .region)
        if !self.description.isEmpty { try container.encode(self.description, forKey: .description) }
        try container.encodeIfPresent(self.classes, forKey: .classes)
        try container.encodeIfPresent(self.features, forKey: .features)
        try container.encodeIfPresent(self.rows, forKey: .rows)
    }

    // MARK: Wire

    func encode(into writer: inout WireWriter) {
        writer.write(self.id)
        switch self.kind {
        case .csv(let path):
            writer.write(UInt8(1))
            writer.write(path)
        case .synthetic(let generator):
            writer.write(UInt8(2))
            generator.encode(into: &writer)
        case .stream:
            writer.write(UInt8(3))
        }
        writer.write(self.labelColumn)
        writer.write(self.licence)
        writer.write(self.pii)
        DataCodec.writeStrings(self.piiColumns, into: &writer)
        writer.write(self.region)
        writer.write(self.description)
        writer.write(self.classes != nil)
        if let classes = self.classes { ComputeCodec.writeLabels(classes, into: &writer) }
        writer.write(UInt32(self.features ?? 0))
        writer.write(UInt32(self.rows ?? 0))
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        self.id = try reader.readString(field + ".id", maxLength: 64)
        switch try ComputeCodec.readTag(field + ".kind", allowed: 1...3, from: &reader) {
        case 1: self.kind = .csv(path: try reader.readString(field + ".path", maxLength: 1024))
        case 2: self.kind = .synthetic(try GaussianMixture(from: &reader, field: field + ".generator"))
        default: self.kind = .stream
        }
        self.labelColumn = try reader.readString(field + ".label_column", maxLength: 256)
        self.licence = try reader.readString(field + ".licence", maxLength: 256)
        self.pii = try reader.readBool(field + ".pii")
        self.piiColumns = try DataCodec.readStrings(field + ".pii_columns", maximum: 1024, from: &reader)
        self.region = try reader.readString(field + ".region", maxLength: 256)
        self.description = try reader.readString(field + ".description", maxLength: 4096)
        if try reader.readBool(field + ".has_classes") {
            self.classes = try ComputeCodec.readLabels(
                field + ".classes",
                maximum: ComputeLimits.maximumClasses,
                from: &reader
            )
        } else {
            self.classes = nil
        }
        let features = try reader.readUInt32(field + ".features")
        self.features = features == 0 ? nil : Int(features)
        let rows = try reader.readUInt32(field + ".rows")
        self.rows = rows == 0 ? nil : Int(rows)
        if let problem = self.validationProblem { throw WireError(.invalidField, "\(field): \(problem)") }
    }
}
