internal import RealModule

/// What drift is measured against: each feature's distribution on the training split.
public struct DriftReference: Codable, Sendable, Equatable {
    /// One feature's reference.
    public struct Feature: Codable, Sendable, Equatable {
        /// The training values, sorted (a seeded sample of at most ``DriftReference/maxValues``).
        public var sorted: [Float]
        /// Inner edges of the PSI bins: training deciles, duplicates removed.
        public var edges: [Float]
        /// The fraction of training values in each bin (`edges.count + 1` bins).
        public var fractions: [Double]
    }

    /// The most training values kept per feature.
    public static let maxValues = 2_000
    /// PSI bins per feature (before merging equal edges).
    public static let bins = 10

    /// The features, in column order.
    public var features: [Feature]

    /// Builds the reference from the training rows (row-major, `columns` per row).
    public init(rows: TensorFrame, seed: UInt64) {
        var keep = Array(0..<rows.rows)
        if keep.count > Self.maxValues {
            var rng = SeededRandom(seed: seed, key: "drift-reference")
            rng.shuffle(&keep)
            keep = Array(keep.prefix(Self.maxValues))
        }
        self.features = (0..<rows.columns).map { column in
            let sorted = keep.map { rows.values[$0 * rows.columns + column] }.sorted()
            var edges: [Float] = []
            for bin in 1..<Self.bins {
                let value = sorted[min(sorted.count - 1, bin * sorted.count / Self.bins)]
                if edges.last != value { edges.append(value) }
            }
            let counts = DriftStatistics.histogram(sorted, edges: edges)
            return Feature(sorted: sorted, edges: edges, fractions: counts.map { Double($0) / Double(max(1, sorted.count)) })
        }
    }
}

/// Per-feature drift of one window against the reference.
public struct WindowDrift: Codable, Sendable, Equatable {
    /// Population stability index per feature.
    public var psi: [Double]
    /// Two-sample Kolmogorov-Smirnov statistic D per feature.
    public var ks: [Double]
    /// The KS critical value for this window's size at α = 0.01.
    public var ksCritical: Double
    /// Features whose KS D exceeds the critical value.
    public var ksFlagged: [Int]
    /// Features whose PSI exceeds 0.2.
    public var psiFlagged: [Int]

    /// The largest PSI and KS D.
    public var maxPSI: Double { self.psi.max() ?? 0 }
    public var maxKS: Double { self.ks.max() ?? 0 }
}

/// Population stability index and the two-sample Kolmogorov-Smirnov test, per feature.
///
/// Measured on digits (shared/datasets/README.md): Gaussian noise σ = 2 on 30 % of the pixels
/// is invisible to decile-binned PSI while KS flags about 15 of 64 features, and "any feature
/// with PSI > 0.2" false-alarms on a third of clean windows of 200 rows — hence an alarm rule that
/// needs several features (``DriftRule``) and consecutive windows (``AlertRule``'s `for`).
public enum DriftStatistics {
    /// The PSI threshold conventionally read as a significant shift.
    public static let psiThreshold = 0.2
    /// Floor of a bin's fraction in PSI, so an empty bin does not make it infinite.
    public static let epsilon = 1e-4

    /// Counts of `sorted` values per bin: bin i holds values in (edges[i-1], edges[i]].
    static func histogram(_ values: [Float], edges: [Float]) -> [Int] {
        var counts = [Int](repeating: 0, count: edges.count + 1)
        for value in values {
            var low = 0
            var high = edges.count
            while low < high {
                let middle = (low + high) / 2
                if value <= edges[middle] { high = middle } else { low = middle + 1 }
            }
            counts[low] += 1
        }
        return counts
    }

    /// PSI of `sample` against `reference`: Σ (s − r) · ln(s / r) over the bins.
    public static func psi(reference: DriftReference.Feature, sample: [Float]) -> Double {
        guard !sample.isEmpty else { return 0 }
        let counts = self.histogram(sample, edges: reference.edges)
        var total = 0.0
        for (bin, count) in counts.enumerated() {
            let s = max(Double(count) / Double(sample.count), self.epsilon)
            let r = max(reference.fractions[bin], self.epsilon)
            total += (s - r) * Double.log(s / r)
        }
        return total
    }

    /// The two-sample KS statistic: the largest gap between the two empirical distributions.
    public static func ks(sortedReference reference: [Float], sample: [Float]) -> Double {
        guard !reference.isEmpty, !sample.isEmpty else { return 0 }
        let other = sample.sorted()
        var i = 0
        var j = 0
        var largest = 0.0
        let n = Double(reference.count)
        let m = Double(other.count)
        while i < reference.count, j < other.count {
            let value = min(reference[i], other[j])
            while i < reference.count, reference[i] == value { i += 1 }
            while j < other.count, other[j] == value { j += 1 }
            largest = max(largest, abs(Double(i) / n - Double(j) / m))
        }
        return largest
    }

    /// The KS critical value at α = 0.01 for samples of sizes `n` and `m`: 1.628 √((n + m) / (n m)).
    public static func ksCritical(_ n: Int, _ m: Int) -> Double {
        guard n > 0, m > 0 else { return .infinity }
        return 1.628 * (Double(n + m) / Double(n * m)).squareRoot()
    }

    /// Measures a window (row-major, one column per feature) against `reference`.
    public static func measure(_ window: TensorFrame, against reference: DriftReference) -> WindowDrift {
        var psi: [Double] = []
        var ks: [Double] = []
        let critical = self.ksCritical(reference.features.first?.sorted.count ?? 0, window.rows)
        for (column, feature) in reference.features.enumerated() where column < window.columns {
            let sample = (0..<window.rows).map { window.values[$0 * window.columns + column] }
            psi.append(self.psi(reference: feature, sample: sample))
            ks.append(self.ks(sortedReference: feature.sorted, sample: sample))
        }
        return WindowDrift(
            psi: psi, ks: ks, ksCritical: critical,
            ksFlagged: ks.indices.filter { ks[$0] > critical }, psiFlagged: psi.indices.filter { psi[$0] > self.psiThreshold })
    }
}

/// When a window counts as drifted: enough features flagged by KS or by PSI.
public struct DriftRule: Codable, Sendable, Equatable {
    /// How many features KS must flag.
    public var minKSFeatures: Int
    /// How many features PSI must flag.
    public var minPSIFeatures: Int

    public init(minKSFeatures: Int = 6, minPSIFeatures: Int = 6) {
        self.minKSFeatures = minKSFeatures
        self.minPSIFeatures = minPSIFeatures
    }

    /// Whether `drift` is over the rule.
    public func isDrifted(_ drift: WindowDrift) -> Bool {
        drift.ksFlagged.count >= self.minKSFeatures || drift.psiFlagged.count >= self.minPSIFeatures
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case minKSFeatures = "min_ks_features"
        case minPSIFeatures = "min_psi_features"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.minKSFeatures = try container.decodeIfPresent(Int.self, forKey: .minKSFeatures) ?? 6
        self.minPSIFeatures = try container.decodeIfPresent(Int.self, forKey: .minPSIFeatures) ?? 6
        guard self.minKSFeatures >= 1, self.minPSIFeatures >= 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "counts >= 1"))
        }
    }
}
