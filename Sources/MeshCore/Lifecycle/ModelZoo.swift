/// The architectures the model agent may choose from, the pretrained bases the compute node can
/// produce, and the modelled device the cost model prices work on (`agents/zoo.yaml`).
public struct ModelZoo: Codable, Sendable, Equatable {
    /// One architecture.
    public struct Model: Codable, Sendable, Equatable {
        /// The zoo id, such as `mlp-64`.
        public var id: String
        /// The architecture, as the compute node parses it: `softmax`, `mlp:64`, `mlp:128,64`.
        public var architecture: String
        /// What it is for.
        public var description: String

        public init(id: String, architecture: String, description: String = "") {
            self.id = id
            self.architecture = architecture
            self.description = description
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case id, architecture, description }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.architecture = try container.decode(String.self, forKey: .architecture)
            guard Architecture(parsing: self.architecture) != nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .architecture, in: container, debugDescription: "softmax or mlp:H1[,H2…] (hidden sizes 1-4096)")
            }
            self.description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        }
    }

    /// A base model the compute node pretrains on a source task, to fine-tune from.
    public struct PretrainedBase: Codable, Sendable, Equatable {
        /// The base's id.
        public var id: String
        /// Its architecture.
        public var architecture: String
        /// The catalog source it is trained on.
        public var source: String
        /// The classes of the source task (a subset of the source's labels).
        public var classes: [Int]
        /// Pretraining epochs.
        public var epochs: Int

        public init(id: String, architecture: String, source: String, classes: [Int], epochs: Int) {
            self.id = id
            self.architecture = architecture
            self.source = source
            self.classes = classes
            self.epochs = epochs
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case id, architecture, source, classes, epochs }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.architecture = try container.decode(String.self, forKey: .architecture)
            guard Architecture(parsing: self.architecture) != nil else {
                throw DecodingError.dataCorruptedError(forKey: .architecture, in: container, debugDescription: "softmax or mlp:H1[,H2…]")
            }
            self.source = try container.decode(String.self, forKey: .source)
            self.classes = try container.decode([Int].self, forKey: .classes)
            self.epochs = try container.decodeIfPresent(Int.self, forKey: .epochs) ?? 30
            guard self.classes.count >= 2, (1...1000).contains(self.epochs) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "2 or more classes and 1-1000 epochs"))
            }
        }
    }

    /// The device the cost model prices work on (simulated time, never measured time).
    public struct Device: Codable, Sendable, Equatable {
        /// Sustained training throughput of one compute node, in GFLOP/s.
        public var trainingGFLOPS: Double
        /// Sustained inference throughput for one row, in GFLOP/s.
        public var inferenceGFLOPS: Double
        /// Fixed cost of serving one request (parsing, network), in microseconds.
        public var requestOverheadMicroseconds: Double

        public init(trainingGFLOPS: Double = 20, inferenceGFLOPS: Double = 2, requestOverheadMicroseconds: Double = 200) {
            self.trainingGFLOPS = trainingGFLOPS
            self.inferenceGFLOPS = inferenceGFLOPS
            self.requestOverheadMicroseconds = requestOverheadMicroseconds
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case trainingGFLOPS = "training_gflops"
            case inferenceGFLOPS = "inference_gflops"
            case requestOverheadMicroseconds = "request_overhead_us"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.trainingGFLOPS = try container.decodeIfPresent(Double.self, forKey: .trainingGFLOPS) ?? 20
            self.inferenceGFLOPS = try container.decodeIfPresent(Double.self, forKey: .inferenceGFLOPS) ?? 2
            self.requestOverheadMicroseconds = try container.decodeIfPresent(Double.self, forKey: .requestOverheadMicroseconds) ?? 200
            guard self.trainingGFLOPS > 0, self.inferenceGFLOPS > 0, self.requestOverheadMicroseconds >= 0 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "positive throughputs"))
            }
        }
    }

    /// The architectures.
    public var models: [Model]
    /// The pretrained bases.
    public var pretrained: [PretrainedBase]
    /// The modelled device.
    public var device: Device

    public init(models: [Model], pretrained: [PretrainedBase] = [], device: Device = Device()) {
        self.models = models
        self.pretrained = pretrained
        self.device = device
    }

    public enum CodingKeys: String, CodingKey, CaseIterable { case models, pretrained, device }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.models = try container.decode([Model].self, forKey: .models)
        self.pretrained = try container.decodeIfPresent([PretrainedBase].self, forKey: .pretrained) ?? []
        self.device = try container.decodeIfPresent(Device.self, forKey: .device) ?? Device()
        guard !self.models.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .models, in: container, debugDescription: "at least one model")
        }
    }
}

/// An architecture string parsed: `softmax` (no hidden layer) or `mlp:H1,H2,…`.
public struct Architecture: Sendable, Equatable {
    /// Hidden layer sizes, input side first (empty for softmax regression).
    public var hidden: [Int]

    /// Parses `softmax` or `mlp:H1[,H2…]`; nil when malformed.
    public init?(parsing text: String) {
        if text == "softmax" {
            self.hidden = []
            return
        }
        guard text.hasPrefix("mlp:") else { return nil }
        let sizes = text.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 4096 }) else { return nil }
        self.hidden = sizes.map { $0! }
    }

    /// The layer widths from input to output.
    public func widths(features: Int, classes: Int) -> [Int] { [features] + self.hidden + [classes] }

    /// Trainable parameters (weights and biases).
    public func parameters(features: Int, classes: Int) -> Int {
        let widths = self.widths(features: features, classes: classes)
        return zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    }

    /// Floating-point operations of one forward pass for one row (a multiply-add counts two).
    public func forwardFLOPs(features: Int, classes: Int) -> Double {
        let widths = self.widths(features: features, classes: classes)
        return zip(widths, widths.dropFirst()).reduce(0.0) { $0 + 2 * Double($1.0 * $1.1) }
    }

    /// The size of the fp32 weights file (docs/COMPUTE.md): 4 bytes a parameter plus headers.
    public func fp32Bytes(features: Int, classes: Int) -> Int {
        4 * self.parameters(features: features, classes: classes) + 64 + 16 * (self.hidden.count + 1) + 32
    }

    /// The size of the int8 weights file: a byte a weight, fp32 biases and per-channel scales.
    public func int8Bytes(features: Int, classes: Int) -> Int {
        let widths = self.widths(features: features, classes: classes)
        let layers = zip(widths, widths.dropFirst())
        return layers.reduce(0) { $0 + $1.0 * $1.1 + 8 * $1.1 } + 64 + 16 * (self.hidden.count + 1) + 32
    }
}
