/// The shares of a dataset's rows in its train, validation and test splits; each class is split
/// in these proportions (stratified).
///
/// ```yaml
/// split: { train: 0.7, validation: 0.1, test: 0.2 }   # the default
/// ```
public struct SplitFractions: Sendable, Hashable, Codable {
    /// The training share (> 0).
    public var train: Double
    /// The validation share (≥ 0; 0 leaves the validation split empty).
    public var validation: Double
    /// The test share (> 0).
    public var test: Double

    /// Fractions that must each lie in [0, 1] (train and test above 0) and sum to 1.
    public init(train: Double = 0.7, validation: Double = 0.1, test: Double = 0.2) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Why these fractions cannot split a dataset, or nil when they can.
    public var validationProblem: String? {
        let all = [self.train, self.validation, self.test]
        guard all.allSatisfy({ $0.isFinite && $0 >= 0 && $0 < 1 }), self.train > 0, self.test > 0 else {
            return "split \(self.train)/\(self.validation)/\(self.test): train and test in (0, 1), validation in [0, 1)"
        }
        guard abs(all.reduce(0, +) - 1) <= 1e-9 else {
            return "split \(self.train)/\(self.validation)/\(self.test) does not sum to 1"
        }
        return nil
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case train, validation, test
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.train = try container.decode(Double.self, forKey: .train)
        self.validation = try container.decodeIfPresent(Double.self, forKey: .validation) ?? 0
        self.test = try container.decode(Double.self, forKey: .test)
        if let problem = self.validationProblem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }
}
