/// A synthetic source's generator: a mixture of Gaussian classes, each a unit-variance cloud
/// around its own centre.
///
/// Class `c`'s centre has coordinates drawn from N(0, separation²); each of its rows is the centre
/// plus N(0, 1) noise per feature. Rows come class by class, labels `0..<classes`, feature names
/// `x1…xN`. Everything is drawn from one ``SeededRandom`` stream keyed by the request's seed, the
/// use case, the source and ``seedSalt`` (``generate(seed:useCaseID:sourceID:)``), so the same
/// request gives the same rows and a new salt gives new ones (the "more synthetic data" of the
/// feedback loop).
///
/// In the catalog:
///
/// ```yaml
/// - id: gaussian-mixture
///   kind: synthetic
///   generator: { classes: 4, features: 16, rows_per_class: 250, separation: 1.5, seed_salt: 0 }
/// ```
public struct GaussianMixture: Sendable, Hashable, Codable {
    /// The number of classes (2…1000).
    public var classes: Int
    /// The number of features (1…4096).
    public var features: Int
    /// Rows drawn per class (3…1,000,000); `classes · rowsPerClass · features` is at most
    /// ``maximumValues``.
    public var rowsPerClass: Int
    /// The standard deviation of the class centres' coordinates, in units of the classes' own
    /// spread: 0 makes the classes indistinguishable, 3 makes them nearly separable.
    public var separation: Double
    /// Mixed into the random stream's key, so one catalog entry can give several independent
    /// draws.
    public var seedSalt: UInt64

    /// The most values a generated table may hold (8 MB of Float32, what a task result carries).
    public static let maximumValues = 2_000_000

    /// A generator; the values must satisfy ``validationProblem``'s bounds.
    public init(classes: Int, features: Int, rowsPerClass: Int, separation: Double, seedSalt: UInt64 = 0) {
        self.classes = classes
        self.features = features
        self.rowsPerClass = rowsPerClass
        self.separation = separation
        self.seedSalt = seedSalt
    }

    /// Why these values cannot generate a table, or nil when they can.
    public var validationProblem: String? {
        guard (2...1000).contains(self.classes) else { return "classes: \(self.classes), expected 2 to 1000" }
        guard (1...4096).contains(self.features) else { return "features: \(self.features), expected 1 to 4096" }
        guard (3...1_000_000).contains(self.rowsPerClass) else {
            return "rows_per_class: \(self.rowsPerClass), expected 3 to 1000000"
        }
        guard self.classes * self.rowsPerClass * self.features <= Self.maximumValues else {
            return "\(self.classes) x \(self.rowsPerClass) rows of \(self.features) features exceed \(Self.maximumValues) values"
        }
        guard self.separation.isFinite, self.separation >= 0, self.separation <= 1000 else {
            return "separation: \(self.separation), expected 0 to 1000"
        }
        return nil
    }

    /// The table this generator draws for a request: `seed` and the use case's id key the stream
    /// (`data/<use case>/synthetic/<source>/<salt>`); the generator must be valid.
    public func generate(seed: UInt64, useCaseID: String, sourceID: String) -> CSVTable {
        precondition(self.validationProblem == nil, "an invalid generator: \(self.validationProblem ?? "")")
        var normal = GaussianSampler(
            SeededRandom(seed: seed, key: "data/\(useCaseID)/synthetic/\(sourceID)/\(self.seedSalt)")
        )
        var centres = [Double]()
        centres.reserveCapacity(self.classes * self.features)
        for _ in 0..<(self.classes * self.features) { centres.append(self.separation * normal.next()) }
        var values = [Float]()
        values.reserveCapacity(self.classes * self.rowsPerClass * self.features)
        var labels = [Int]()
        labels.reserveCapacity(self.classes * self.rowsPerClass)
        for label in 0..<self.classes {
            for _ in 0..<self.rowsPerClass {
                for feature in 0..<self.features {
                    values.append(Float(centres[label * self.features + feature] + normal.next()))
                }
                labels.append(label)
            }
        }
        return CSVTable(
            source: "synthetic:\(sourceID)",
            featureNames: (1...self.features).map { "x\($0)" },
            labelName: "label",
            features: values,
            labels: labels
        )
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case classes, features
        case rowsPerClass = "rows_per_class"
        case separation
        case seedSalt = "seed_salt"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.classes = try container.decode(Int.self, forKey: .classes)
        self.features = try container.decode(Int.self, forKey: .features)
        self.rowsPerClass = try container.decode(Int.self, forKey: .rowsPerClass)
        self.separation = try container.decodeIfPresent(Double.self, forKey: .separation) ?? 1
        self.seedSalt = try container.decodeIfPresent(UInt64.self, forKey: .seedSalt) ?? 0
        if let problem = self.validationProblem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }

    // MARK: Wire

    func encode(into writer: inout WireWriter) {
        writer.write(UInt32(self.classes))
        writer.write(UInt32(self.features))
        writer.write(UInt32(self.rowsPerClass))
        writer.write(self.separation)
        writer.write(self.seedSalt)
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        self.classes = Int(try reader.readUInt32(field + ".classes"))
        self.features = Int(try reader.readUInt32(field + ".features"))
        self.rowsPerClass = Int(try reader.readUInt32(field + ".rows_per_class"))
        self.separation = try reader.readDouble(field + ".separation")
        self.seedSalt = try reader.readUInt64(field + ".seed_salt")
        if let problem = self.validationProblem { throw WireError(.invalidField, "\(field): \(problem)") }
    }
}
