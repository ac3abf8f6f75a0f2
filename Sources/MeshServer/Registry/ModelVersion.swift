public import MeshAgents
public import MeshCompute
public import MeshCore
import Synchronization

/// One servable version of a model: its weights (fp32, int8 or both), the standardizer applied
/// to raw rows, its metadata, and what it has served.
///
/// The weights are either held decoded (``init(name:version:fp32:int8:precision:standardizer:metadata:latencyWindow:)``)
/// or kept as weights files in a content-addressed blob store and decoded on demand through a
/// bounded ``DecodedWeightsCache``
/// (``init(name:version:weightsFiles:storedIn:cache:precision:standardizer:metadata:)``): a
/// pipeline agent deploys thousands of versions and serves a few at a time, so it holds only
/// their hashes.
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

    /// One weights file kept in a blob store.
    struct StoredFile: Sendable {
        /// Its content hash (the blob's name).
        var hash: BlobHash
        /// Its size in bytes.
        var bytes: Int
        /// What it was deployed as (`digits@v3.int8`), for messages.
        var source: String
    }

    /// Where the weights are.
    private enum Weights: Sendable {
        /// Decoded, in memory.
        case decoded(fp32: MLP?, int8: QuantizedMLP?)
        /// Weights files in `store`, decoded on demand through `cache`.
        case stored(store: any BlobStorePort, fp32: StoredFile?, int8: StoredFile?, cache: DecodedWeightsCache)
    }

    /// The model's name (`digits-classifier`).
    public let name: String
    /// The version number, 1 or more.
    public let version: Int
    /// Which weights serve requests.
    public let precision: Precision
    /// The precisions the version has weights for (fp32 first).
    public let availablePrecisions: [Precision]
    /// The class label of each output.
    public let classLabels: [Int]
    /// The per-feature standardization applied to each raw row before the model, if any.
    public let standardizer: Standardizer?
    /// Lineage and evaluation figures.
    public let metadata: ModelMetadata
    /// The number of features a row has.
    public let featureCount: Int

    private let weights: Weights
    private let reservoir: Mutex<LatencyReservoir>

    /// Makes a version from decoded weights, held in memory.
    ///
    /// - Parameters:
    ///   - precision: which weights serve; by default int8 when given (the pipeline deploys the
    ///     quantized model when it kept its accuracy), else fp32.
    ///   - latencyWindow: how many recent latencies the percentiles are taken over.
    /// - Throws: ``RegistryError`` (`invalidName`, `invalidVersion`) when the name is not a valid
    ///   model name, the number is below 1, no weights are given, the requested precision has no
    ///   weights, or the two models, the standardizer and the labels do not agree.
    public convenience init(
        name: String,
        version: Int,
        fp32: MLP? = nil,
        int8: QuantizedMLP? = nil,
        precision: Precision? = nil,
        standardizer: Standardizer? = nil,
        metadata: ModelMetadata = ModelMetadata(),
        latencyWindow: Int = 8192
    ) throws(RegistryError) {
        let shape = try Self.check(name: name, version: version, fp32: fp32, int8: int8, precision: precision, standardizer: standardizer)
        self.init(
            name: name, version: version, weights: .decoded(fp32: fp32, int8: int8), shape: shape, standardizer: standardizer,
            metadata: metadata, latencyWindow: latencyWindow)
    }

    /// Makes a version whose weights files are kept in `store` and decoded on demand: each file is
    /// decoded once here (to check it as the in-memory initializer does), put in the store, and
    /// its serving model left in `cache`; the version itself holds only the files' hashes.
    ///
    /// - Throws: ``ComputeError`` for a file that does not decode, ``RegistryError`` as the
    ///   in-memory initializer, or for two files of the same kind, what `store.put` throws.
    public convenience init(
        name: String,
        version: Int,
        weightsFiles: [(bytes: [UInt8], source: String)],
        storedIn store: any BlobStorePort,
        cache: DecodedWeightsCache,
        precision: Precision? = nil,
        standardizer: Standardizer? = nil,
        metadata: ModelMetadata = ModelMetadata(),
        latencyWindow: Int = 8192
    ) throws {
        let (fp32, int8) = try Self.decode(weightsFiles)
        let shape = try Self.check(
            name: name, version: version, fp32: fp32?.model, int8: int8?.model, precision: precision, standardizer: standardizer)
        var files: (fp32: StoredFile?, int8: StoredFile?) = (nil, nil)
        for (kind, file) in [(Precision.fp32, fp32?.file), (.int8, int8?.file)] {
            guard let file else { continue }
            let stored = StoredFile(hash: try store.put(file.bytes), bytes: file.bytes.count, source: file.source)
            if kind == .fp32 { files.fp32 = stored } else { files.int8 = stored }
        }
        // The serving model was just decoded, and the next request (a serving test) will want it.
        switch shape.precision {
        case .fp32: if let file = files.fp32, let model = fp32?.model { cache.insert(.fp32(model), for: file.hash, bytes: file.bytes) }
        case .int8: if let file = files.int8, let model = int8?.model { cache.insert(.int8(model), for: file.hash, bytes: file.bytes) }
        }
        self.init(
            name: name, version: version, weights: .stored(store: store, fp32: files.fp32, int8: files.int8, cache: cache),
            shape: shape, standardizer: standardizer, metadata: metadata, latencyWindow: latencyWindow)
    }

    /// The one place a version's fields are set, from weights its public initializers checked.
    private init(
        name: String, version: Int, weights: Weights, shape: Shape, standardizer: Standardizer?, metadata: ModelMetadata,
        latencyWindow: Int
    ) {
        self.name = name
        self.version = version
        self.weights = weights
        self.precision = shape.precision
        self.availablePrecisions = shape.available
        self.classLabels = shape.labels
        self.standardizer = standardizer
        self.metadata = metadata
        self.featureCount = shape.inputs
        self.reservoir = Mutex(LatencyReservoir(capacity: max(1, latencyWindow)))
    }

    /// What a valid version's weights look like.
    private struct Shape {
        var precision: Precision
        var available: [Precision]
        var inputs: Int
        var labels: [Int]
    }

    private static func check(
        name: String, version: Int, fp32: MLP?, int8: QuantizedMLP?, precision: Precision?, standardizer: Standardizer?
    ) throws(RegistryError) -> Shape {
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
        let available = (fp32 != nil ? [Precision.fp32] : []) + (int8 != nil ? [Precision.int8] : [])
        return Shape(precision: chosen, available: available, inputs: widths.inputs, labels: widths.labels)
    }

    /// Decodes weights files, at most one of each kind.
    private static func decode(_ weightsFiles: [(bytes: [UInt8], source: String)]) throws -> (
        fp32: (model: MLP, file: (bytes: [UInt8], source: String))?,
        int8: (model: QuantizedMLP, file: (bytes: [UInt8], source: String))?
    ) {
        var fp32: (model: MLP, file: (bytes: [UInt8], source: String))?
        var int8: (model: QuantizedMLP, file: (bytes: [UInt8], source: String))?
        for file in weightsFiles {
            switch try WeightsFile.decode(file.bytes, source: file.source) {
            case .fp32(let model):
                guard fp32 == nil else {
                    throw RegistryError(.invalidVersion, "\(file.source): a second fp32 model for one version")
                }
                fp32 = (model, file)
            case .int8(let model):
                guard int8 == nil else {
                    throw RegistryError(.invalidVersion, "\(file.source): a second int8 model for one version")
                }
                int8 = (model, file)
            }
        }
        return (fp32, int8)
    }

    /// The float weights, decoded (on demand for a stored version); nil when the version has none
    /// or they cannot be read (``model(_:)`` says why).
    public var fp32: MLP? {
        guard case .fp32(let model)? = try? self.model(.fp32) else { return nil }
        return model
    }

    /// The int8 weights, decoded (on demand for a stored version); nil when the version has none
    /// or they cannot be read (``model(_:)`` says why).
    public var int8: QuantizedMLP? {
        guard case .int8(let model)? = try? self.model(.int8) else { return nil }
        return model
    }

    /// The decoded model of `precision`, nil when the version has no weights of it. A stored
    /// version reads its file from the blob store on a cache miss (on the calling thread) and
    /// checks it against its hash and its own checksum before decoding.
    ///
    /// - Throws: ``RegistryError`` `weightsUnavailable` naming the version and the file, when the
    ///   blob is missing, cannot be read, does not hash to its name, or does not decode.
    public func model(_ precision: Precision) throws(RegistryError) -> WeightsFile.StoredModel? {
        switch self.weights {
        case .decoded(let fp32, let int8):
            switch precision {
            case .fp32: return fp32.map { .fp32($0) }
            case .int8: return int8.map { .int8($0) }
            }
        case .stored(let store, let fp32, let int8, let cache):
            guard let file = precision == .fp32 ? fp32 : int8 else { return nil }
            do {
                return try cache.weights(for: file.hash, bytes: file.bytes) { () throws(RegistryError) in
                    try self.read(file, from: store)
                }
            } catch let error as RegistryError {
                throw error
            } catch {
                preconditionFailure("read(_:from:) throws only RegistryError: \(error)")
            }
        }
    }

    private func read(_ file: StoredFile, from store: any BlobStorePort) throws(RegistryError) -> WeightsFile.StoredModel {
        let what = "model '\(self.name)' version \(self.version): weights \(file.source) (blob \(file.hash))"
        let bytes: [UInt8]
        do {
            bytes = try store.get(file.hash)
        } catch {
            throw RegistryError(.weightsUnavailable, "\(what) cannot be read from the blob store: \(error)")
        }
        guard BlobHash(of: bytes) == file.hash else {
            throw RegistryError(.weightsUnavailable, "\(what): the stored bytes do not match their hash (corrupt blob)")
        }
        do {
            return try WeightsFile.decode(bytes, source: file.source)
        } catch {
            throw RegistryError(.weightsUnavailable, "\(what) does not decode: \(error)")
        }
    }

    /// Makes a version from weights files' bytes (`.mwnn`, see docs/COMPUTE.md), one fp32 and/or
    /// one int8, held decoded in memory.
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
        let (fp32, int8) = try Self.decode(weightsFiles)
        try self.init(
            name: name,
            version: version,
            fp32: fp32?.model,
            int8: int8?.model,
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
    ///
    /// - Throws: ``ComputeError`` from the computation, ``RegistryError`` `weightsUnavailable`
    ///   when a stored version's weights cannot be read (``model(_:)``).
    public func logits(rows: Int, values: [Float]) throws -> Matrix {
        var values = values
        if let standardizer = self.standardizer { standardizer.apply(to: &values) }
        let inputs = try Matrix(rows: rows, columns: self.featureCount, values: values)
        switch try self.model(self.precision) {
        case .fp32(let model)?: return try model.logits(inputs)
        case .int8(let model)?: return try model.logits(inputs)
        case nil: preconditionFailure("a version always has its serving precision's weights (checked at init)")
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
