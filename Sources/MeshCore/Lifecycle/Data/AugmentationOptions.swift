/// Extra training rows made from the training split's own rows; validation and test are never
/// augmented.
///
/// Each of ``copies`` passes over the training rows appends one altered copy of every row: shifted
/// by one pixel in a random one of the 8 directions when ``shift`` gives the image shape
/// (vacated pixels are 0), then with N(0, σ²) noise added to every feature when ``noiseSigma`` is
/// above 0. Both act on cleaned, unstandardized values (pixel units for images). The draws come
/// from the stream `data/<use case>/augment` under the request's seed.
///
/// ```yaml
/// augmentation: { copies: 1, noise_sigma: 0.5, shift: { width: 8, height: 8 } }
/// ```
public struct AugmentationOptions: Sendable, Hashable, Codable {
    /// How many altered copies of each training row are added (1…16).
    public var copies: Int
    /// The standard deviation of the Gaussian noise, in feature units; 0 adds none.
    public var noiseSigma: Double
    /// The image shape of a row, for ±1-pixel shifts; nil shifts nothing.
    public var shift: ImageShape?

    /// The layout of an image-like row: `width · height` features, row-major.
    public struct ImageShape: Sendable, Hashable, Codable {
        /// Pixels per image row.
        public var width: Int
        /// Image rows.
        public var height: Int

        /// A shape of `width` × `height` pixels.
        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case width, height
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.width = try container.decode(Int.self, forKey: .width)
            self.height = try container.decode(Int.self, forKey: .height)
        }
    }

    /// Augmentation options; at least one of noise and shift must be asked for.
    public init(copies: Int = 1, noiseSigma: Double = 0, shift: ImageShape? = nil) {
        self.copies = copies
        self.noiseSigma = noiseSigma
        self.shift = shift
    }

    /// Why these options are unusable, or nil.
    public var validationProblem: String? {
        guard (1...16).contains(self.copies) else { return "copies: \(self.copies), expected 1 to 16" }
        guard self.noiseSigma.isFinite, self.noiseSigma >= 0 else {
            return "noise_sigma: \(self.noiseSigma), expected 0 or more"
        }
        if let shift = self.shift {
            guard (1...4096).contains(shift.width), (1...4096).contains(shift.height) else {
                return "shift: \(shift.width) x \(shift.height), expected 1 to 4096 each"
            }
        }
        guard self.noiseSigma > 0 || self.shift != nil else {
            return "augmentation asks for neither noise nor shifts"
        }
        return nil
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case copies
        case noiseSigma = "noise_sigma"
        case shift
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.copies = try container.decodeIfPresent(Int.self, forKey: .copies) ?? 1
        self.noiseSigma = try container.decodeIfPresent(Double.self, forKey: .noiseSigma) ?? 0
        self.shift = try container.decodeIfPresent(ImageShape.self, forKey: .shift)
        if let problem = self.validationProblem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }
}
