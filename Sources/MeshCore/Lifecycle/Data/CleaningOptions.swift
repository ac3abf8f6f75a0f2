/// How a source's rows are cleaned before they are split and standardized.
///
/// ```yaml
/// cleaning: { impute_missing: true, drop_duplicates: true, outlier_k: 5 }   # the default
/// ```
public struct CleaningOptions: Sendable, Hashable, Codable {
    /// Whether missing cells (empty, `NA`, `N/A`, `NaN`, `null`, `?`) are replaced with the
    /// feature's median over the training split; when false a missing cell is an error naming its
    /// line and column.
    public var imputeMissing: Bool
    /// Whether exact duplicate rows (same features and label) are dropped, keeping the first.
    public var dropDuplicates: Bool
    /// Values further than `outlierK` standard deviations from the training split's mean are
    /// clipped to that bound, in every split; 0 turns clipping off.
    public var outlierK: Double

    /// Cleaning options; `outlierK` must be 0 (off) or positive and finite.
    public init(imputeMissing: Bool = true, dropDuplicates: Bool = true, outlierK: Double = 5) {
        self.imputeMissing = imputeMissing
        self.dropDuplicates = dropDuplicates
        self.outlierK = outlierK
    }

    /// Why these options are unusable, or nil.
    public var validationProblem: String? {
        guard self.outlierK.isFinite, self.outlierK >= 0 else { return "outlier_k: \(self.outlierK), expected 0 (off) or more" }
        return nil
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case imputeMissing = "impute_missing"
        case dropDuplicates = "drop_duplicates"
        case outlierK = "outlier_k"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.imputeMissing = try container.decodeIfPresent(Bool.self, forKey: .imputeMissing) ?? true
        self.dropDuplicates = try container.decodeIfPresent(Bool.self, forKey: .dropDuplicates) ?? true
        self.outlierK = try container.decodeIfPresent(Double.self, forKey: .outlierK) ?? 5
        if let problem = self.validationProblem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }
}

/// How features are scaled after cleaning.
public enum Normalization: String, Sendable, Hashable, Codable, CaseIterable {
    /// `(x − mean) / std` with the training split's mean and population standard deviation
    /// (a constant feature gets std 1); validation and test use the same statistics.
    case standardize
    /// Values are left as cleaned; the dataset's standardizer is the identity (mean 0, std 1).
    case none
}
