/// The monitoring stream of a lifecycle scenario, pure and seeded: the test split replayed as raw
/// rows, one window an hour, and from the scripted hour on drifted by Gaussian pixel noise on a
/// fraction of each row's features, clipped to the training data's range.
///
/// The test rows are cut in two pools, in a seeded order: each window takes its first half from
/// the *feedback* pool — the labelled rows a retraining may learn from — and the rest from the
/// *held-out* pool, which no model ever trains on; accuracies before and after a retraining are
/// compared on held-out rows only.
///
/// ```swift
/// let stream = StreamReplay(test: dataset.test, standardizer: dataset.standardizer, range: 0...16, seed: 42)
/// let window = stream.window(25, rows: 180, drift: settings.drift)   // drifted: 25 >= at_hour
/// window.rows, window.heldOutFrom                                      // rows ..<heldOutFrom are feedback
/// ```
public struct StreamReplay: Sendable {
    /// One window: its rows, the feedback pool's first.
    public struct Window: Sendable, Equatable {
        public var rows: LabeledRows
        /// Where the held-out rows start.
        public var heldOutFrom: Int
        /// The feedback rows.
        public var feedback: LabeledRows { StreamReplay.rows(self.rows, Array(0..<self.heldOutFrom)) }
    }

    /// The test split in raw units, in a seeded order.
    public let raw: LabeledRows
    /// The feedback pool and the held-out pool (the first and second half of `raw`).
    public let feedbackPool: LabeledRows
    public let heldOutPool: LabeledRows
    /// The range noise is clipped to.
    public let range: ClosedRange<Float>
    public let seed: UInt64

    /// The stream of `test` (standardized by `standardizer`) under `seed`.
    public init(test: LabeledRows, standardizer: Standardizer, range: ClosedRange<Float>, seed: UInt64) {
        let raw = Self.unstandardized(test, standardizer)
        var order = Array(0..<raw.labels.count)
        var rng = SeededRandom(seed: seed, key: "stream/order")
        rng.shuffle(&order)
        self.raw = Self.rows(raw, order)
        let half = (order.count + 1) / 2
        self.feedbackPool = Self.rows(self.raw, Array(0..<half))
        self.heldOutPool = Self.rows(self.raw, Array(half..<order.count))
        self.range = range
        self.seed = seed
    }

    /// Window `index` (hour `index` of the stream): `rows` rows taken cyclically, noised when
    /// `index >= drift.atHour`.
    public func window(_ index: Int, rows: Int, drift: MonitoringSettings.Drift) -> Window {
        let feedbackCount = self.heldOutPool.labels.isEmpty ? rows : (rows + 1) / 2
        let heldOutCount = rows - feedbackCount
        let feedback = Self.cycle(self.feedbackPool, from: index * feedbackCount, count: feedbackCount)
        let heldOut = Self.cycle(self.heldOutPool, from: index * heldOutCount, count: heldOutCount)
        var window = LabeledRows(
            features: TensorFrame(
                rows: feedback.labels.count + heldOut.labels.count, columns: self.raw.features.columns,
                values: feedback.features.values + heldOut.features.values),
            labels: feedback.labels + heldOut.labels)
        guard index >= drift.atHour, drift.noiseSigma > 0, drift.fraction > 0 else {
            return Window(rows: window, heldOutFrom: feedback.labels.count)
        }
        var values = window.features.values
        var mask = SeededRandom(seed: self.seed, key: "stream/mask/\(index)")
        var noise = GaussianSampler(SeededRandom(seed: self.seed, key: "stream/noise/\(index)"))
        for position in values.indices where mask.nextUnitDouble() < drift.fraction {
            let noised = Float(Double(values[position]) + drift.noiseSigma * noise.next())
            values[position] = min(max(noised, self.range.lowerBound), self.range.upperBound)
        }
        window = LabeledRows(
            features: TensorFrame(rows: window.features.rows, columns: window.features.columns, values: values), labels: window.labels)
        return Window(rows: window, heldOutFrom: feedback.labels.count)
    }

    /// `count` rows of `pool` from position `start` on, wrapping around.
    static func cycle(_ pool: LabeledRows, from start: Int, count: Int) -> LabeledRows {
        let size = pool.labels.count
        guard size > 0, count > 0 else { return Self.rows(pool, []) }
        return Self.rows(pool, (0..<count).map { (start + $0) % size })
    }

    /// `rows` mapped back to raw units: `z · std + mean`.
    public static func unstandardized(_ rows: LabeledRows, _ standardizer: Standardizer) -> LabeledRows {
        let columns = rows.features.columns
        guard standardizer.mean.count == columns else { return rows }
        var values = rows.features.values
        for index in values.indices {
            let column = index % columns
            values[index] = values[index] * standardizer.std[column] + standardizer.mean[column]
        }
        return LabeledRows(features: TensorFrame(rows: rows.features.rows, columns: columns, values: values), labels: rows.labels)
    }

    /// The smallest and largest value of `rows`.
    public static func range(of rows: LabeledRows) -> ClosedRange<Float> {
        guard let low = rows.features.values.min(), let high = rows.features.values.max() else { return 0...0 }
        return low...high
    }

    static func rows(_ data: LabeledRows, _ indices: [Int]) -> LabeledRows {
        var values: [Float] = []
        values.reserveCapacity(indices.count * data.features.columns)
        for index in indices { values.append(contentsOf: data.features.row(index)) }
        return LabeledRows(
            features: TensorFrame(rows: indices.count, columns: data.features.columns, values: values),
            labels: indices.map { data.labels[$0] })
    }
}
