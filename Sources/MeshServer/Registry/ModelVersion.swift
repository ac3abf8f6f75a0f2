public import MeshCompute
public import MeshCore
import Synchronization

/// One servable version of a model: its weights (fp32, int8 or both, decoded once), the
/// standardizer applied to raw rows, its metadata, and what it has served.
///
/// Immutable apart from its statistics, so the server takes a reference to it once per request and
/// computes on it without a lock: a request in flight keeps the version it started with whatever
/// the registry's aliases do meanwhile.
///
/// ```swift
/// let version = try ModelVersion(
///     name: "digits-classifier", version: 3, int8: QuantizedMLP(quantizing: model),
///     standardizer: scaler, metadata: ModelMetadata(datasetHash: hash, metrics: ["accuracy": 0.97]))
/// try registry.deploy(version, alias: "staging")
/// ```
public final class ModelVersion: Sendable {
    /// Which of the version's weights answer requests.
    public enum Precision: String, Sendable, Hashable, Codable {
        /// The float model (sgemm).
        case fp32
        /// The int8 model (integer kernel).
        case int8
    }

    /// The model's name (`digits-classifier`).
    public let name: String
    /// The version number, 1 or more.
    public let version: Int
    /// The float weights, if the version has them.
    public let fp32: MLP?
    /// The int8 weights, if the version has them.
    public let int8: QuantizedMLP?
    /// Which weights serve requests.
    public let precision: Precision
    /// The class label of each output.
    public let classLabels: [Int]
    /// The per-feature standardization applied to each raw row before the model, if any.
    public let standardizer: Standardizer?
    /// Lineage and evaluation figures.
    public let metadata: ModelMetadata
    /// The number of features a row has.
    public let featureCount: Int

    private let reservoir: Mutex<LatencyReservoir>

    /// Makes a version from decoded weights.
    ///
    /// - Parameters:
    ///   - precision: which weights serve; by default int8 when given (the pipeline deploys the
    ///     quantized model when it kept its accuracy), else fp32.
    ///   - latencyWindow: how many recent latencies the percentiles are taken over.
    /// - Throws: ``RegistryError`` (`invalidName`, `invalidVersion`) when the name is not a valid
    ///   model name, the number is below 1, no weights are given, the requested precision has no
    ///   weights, or the two models, the standardizer and the labels do not agree.
    public init(
        name: String,
        version: Int,
        fp32: MLP? = nil,
        int8: QuantizedMLP? = nil,
        precision: Precision? = nil,
        standardizer: Standardizer? = nil,
        metadata: ModelMetadata = ModelMetadata(),
        latencyWindow: Int = 8192
    ) throws(RegistryError) {
        try ModelName.check(name, kind: "model name")
        guard version >= 1 else {
            throw RegistryError(.invalidVersion, "model '\(name)' version \(version): versions are numbered from 1")
        }
        let chosen = precision ?? (int8 != nil ? .int8 : .fp32)
        let widths: (inputs: Int, labels: [Int])
        switch (fp32, int8) {
        case (nil, nil):
            throw RegistryError(.invalidVersion, "model '\(name)' version \(version) has no weights")
        case (let model?, nil): widths = (model.inputCount, model.classLabels)
        case (nil, let model?): widths = (model.inputCount, model.classLabels)
        case (let float?, let quantized?):
            guard float.inputCount == quantized.inputCount, float.classLabels == quantized.classLabels else {
                throw RegistryError(
                    .invalidVersion,
                    "model '\(name)' version \(version): the fp32 model (\(float.inputCount) inputs, labels "
                        + "\(float.classLabels)) and the int8 model (\(quantized.inputCount) inputs, labels "
                        + "\(quantized.classLabels)) differ"
                )
            }
            widths = (float.inputCount, float.classLabels)
        }
        if chosen == .fp32 && fp32 == nil || chosen == .int8 && int8 == nil {
            throw RegistryError(
                .invalidVersion,
                "model '\(name)' version \(version) is to serve \(chosen.rawValue) but has no \(chosen.rawValue) weights"
            )
        }
        if let standardizer, standardizer.featureCount != widths.inputs {
            throw RegistryError(
                .invalidVersion,
                "model '\(name)' version \(version): the standardizer has \(standardizer.featureCount) features, "
                    + "the model takes \(widths.inputs)"
            )
        }
        if let standardizer, !(standardizer.mean + standardizer.std).allSatisfy(\.isFinite)
            || standardizer.std.contains(where: { $0 == 0 })
        {
            throw RegistryError(
                .invalidVersion,
                "model '\(name)' version \(version): the standardizer has a non-finite mean or a zero or "
                    + "non-finite std"
            )
        }
        self.name = name
        self.version = version
        self.fp32 = fp32
        self.int8 = int8
        self.precision = chosen
        self.classLabels = widths.labels
        self.standardizer = standardizer
        self.metadata = metadata
        self.featureCount = widths.inputs
        self.reservoir = Mutex(LatencyReservoir(capacity: max(1, latencyWindow)))
    }

    /// Makes a version from weights files' bytes (`.mwnn`, see docs/COMPUTE.md), one fp32 and/or
    /// one int8.
    ///
    /// - Throws: ``ComputeError`` for a file that does not decode, ``RegistryError`` as
    ///   ``init(name:version:fp32:int8:precision:standardizer:metadata:latencyWindow:)``, or for two
    ///   files of the same kind.
    public convenience init(
        name: String,
        version: Int,
        weightsFiles: [(bytes: [UInt8], source: String)],
        precision: Precision? = nil,
        standardizer: Standardizer? = nil,
        metadata: ModelMetadata = ModelMetadata()
    ) throws {
        var fp32: MLP?
        var int8: QuantizedMLP?
        for file in weightsFiles {
            switch try WeightsFile.decode(file.bytes, source: file.source) {
            case .fp32(let model):
                guard fp32 == nil else {
                    throw RegistryError(.invalidVersion, "\(file.source): a second fp32 model for one version")
                }
                fp32 = model
            case .int8(let model):
                guard int8 == nil else {
                    throw RegistryError(.invalidVersion, "\(file.source): a second int8 model for one version")
                }
                int8 = model
            }
        }
        try self.init(
            name: name,
            version: version,
            fp32: fp32,
            int8: int8,
            precision: precision,
            standardizer: standardizer,
            metadata: metadata
        )
    }

    /// The number of classes (outputs).
    public var classCount: Int { self.classLabels.count }

    /// The logits of `rows` (raw rows of ``featureCount`` features, row-major): standardized when
    /// the version has a standardizer, then through the serving precision's model.
    ///
    /// Runs on the calling thread; the server calls it inline for small batches and on a
    /// `ComputeExecutor` for large ones.
    public func logits(rows: Int, values: [Float]) throws(ComputeError) -> Matrix {
        var values = values
        if let standardizer = self.standardizer { standardizer.apply(to: &values) }
        let inputs = try Matrix(rows: rows, columns: self.featureCount, values: values)
        switch self.precision {
        case .fp32: return try self.fp32!.logits(inputs)
        case .int8: return try self.int8!.logits(inputs)
        }
    }

    /// What this version has served so far.
    public var statistics: ServingStatistics {
        self.reservoir.withLock { $0.statistics }
    }

    /// The latencies in the window, in nanoseconds, for merging across versions.
    var latencyWindow: [UInt64] {
        self.reservoir.withLock { $0.window }
    }

    /// Counts one successful request.
    func recordSuccess(rows: Int, nanoseconds: UInt64) {
        self.reservoir.withLock { $0.recordSuccess(rows: rows, nanoseconds: nanoseconds) }
    }

    /// Counts one refused or failed request.
    func recordFailure() {
        self.reservoir.withLock { $0.recordFailure() }
    }
}

/// The rule for model and alias names: they appear in URL paths unescaped.
enum ModelName {
    /// The longest accepted name.
    static let maximumLength = 128

    /// Throws `invalidName` unless `name` is 1…128 characters of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
    static func check(_ name: String, kind: String) throws(RegistryError) {
        let valid =
            !name.isEmpty && name.utf8.count <= Self.maximumLength && name != "." && name != ".."
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        guard valid else {
            throw RegistryError(
                .invalidName,
                "\(kind) '\(name)': use 1-\(Self.maximumLength) characters of A-Z, a-z, 0-9, '.', '_', '-'"
            )
        }
    }
}
