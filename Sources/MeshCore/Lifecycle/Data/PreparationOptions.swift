/// The preparation settings a use case template may carry, decoded as one block and copied into
/// a ``PrepareRequest``.
///
/// ```yaml
/// preparation:
///   split: { train: 0.7, validation: 0.1, test: 0.2 }
///   cleaning: { impute_missing: true, drop_duplicates: true, outlier_k: 5 }
///   normalization: standardize
///   augmentation: { copies: 1, noise_sigma: 0.5, shift: { width: 8, height: 8 } }
/// ```
///
/// Every field is optional; an absent one takes its default (no augmentation).
public struct PreparationOptions: Sendable, Hashable, Codable {
    /// The split fractions.
    public var split: SplitFractions
    /// The cleaning steps.
    public var cleaning: CleaningOptions
    /// The scaling.
    public var normalization: Normalization
    /// The augmentation, if any.
    public var augmentation: AugmentationOptions?

    /// Options; the defaults are 0.7/0.1/0.2, full cleaning with k = 5, standardization, no
    /// augmentation.
    public init(
        split: SplitFractions = SplitFractions(),
        cleaning: CleaningOptions = CleaningOptions(),
        normalization: Normalization = .standardize,
        augmentation: AugmentationOptions? = nil
    ) {
        self.split = split
        self.cleaning = cleaning
        self.normalization = normalization
        self.augmentation = augmentation
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case split, cleaning, normalization, augmentation
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.split = try container.decodeIfPresent(SplitFractions.self, forKey: .split) ?? SplitFractions()
        self.cleaning = try container.decodeIfPresent(CleaningOptions.self, forKey: .cleaning) ?? CleaningOptions()
        self.normalization = try container.decodeIfPresent(Normalization.self, forKey: .normalization) ?? .standardize
        self.augmentation = try container.decodeIfPresent(AugmentationOptions.self, forKey: .augmentation)
    }
}
