public import MeshCore

/// A multi-layer perceptron classifier: dense layers with ReLU between them and softmax logits
/// at the end. With no hidden layer it is softmax (multinomial logistic) regression.
///
/// Output `j` stands for the class label `classLabels[j]`, so a model trained on digits 5-9
/// answers 5-9, not 0-4. Inputs are expected standardized the way the training data was.
///
/// ```swift
/// var model = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: Array(0...9), seed: 1)
/// model = try Trainer.train(model, on: train, configuration: .init(epochs: 60, seed: 1)).model
/// let labels = try model.predictLabels(test.features)
/// ```
public struct MLP: Sendable, Hashable {
    /// The layers, input first; every one but the last is followed by a ReLU.
    public var layers: [DenseLayer]
    /// The class label of each output, in output order.
    public var classLabels: [Int]

    /// A model from its layers; throws when consecutive widths or the label count do not fit.
    public init(layers: [DenseLayer], classLabels: [Int]) throws(ComputeError) {
        guard let last = layers.last else {
            throw ComputeError(.shapeMismatch, "model", "a model needs at least one layer")
        }
        for index in 1..<layers.count where layers[index].inputCount != layers[index - 1].outputCount {
            throw ComputeError(
                .shapeMismatch,
                "model",
                at: "layer \(index)",
                "takes \(layers[index].inputCount) inputs but layer \(index - 1) gives \(layers[index - 1].outputCount)"
            )
        }
        guard last.outputCount == classLabels.count else {
            throw ComputeError(
                .shapeMismatch,
                "model",
                "\(last.outputCount) outputs for \(classLabels.count) class labels"
            )
        }
        guard Set(classLabels).count == classLabels.count else {
            throw ComputeError(.invalidArgument, "model", "class labels repeat: \(classLabels)")
        }
        for (index, layer) in layers.enumerated() {
            try layer.weights.checkFinite("model layer \(index) weights")
            try Matrix(rows: 1, columns: layer.bias.count, unchecked: layer.bias).checkFinite(
                "model layer \(index) bias"
            )
        }
        self.layers = layers
        self.classLabels = classLabels
    }

    /// A freshly initialized model (He-uniform hidden layers, Glorot-uniform logits, zero biases)
    /// drawn from `SeededRandom(seed: seed, key: "mlp/init")`: the same arguments give the same
    /// weights on every machine.
    public init(architecture: Architecture, inputs: Int, classLabels: [Int], seed: UInt64) {
        var rng = SeededRandom(seed: seed, key: "mlp/init")
        self.init(architecture: architecture, inputs: inputs, classLabels: classLabels, using: &rng)
    }

    /// A freshly initialized model drawn from `rng`.
    public init(architecture: Architecture, inputs: Int, classLabels: [Int], using rng: inout SeededRandom) {
        precondition(inputs > 0 && !classLabels.isEmpty, "a model needs inputs and classes")
        let widths = [inputs] + architecture.hidden + [classLabels.count]
        var layers: [DenseLayer] = []
        for index in 0..<(widths.count - 1) {
            layers.append(
                DenseLayer.initialized(
                    inputs: widths[index],
                    outputs: widths[index + 1],
                    beforeReLU: index < widths.count - 2,
                    using: &rng
                )
            )
        }
        self.layers = layers
        self.classLabels = classLabels
    }

    /// The number of input features.
    public var inputCount: Int { self.layers[0].inputCount }
    /// The number of classes (outputs).
    public var classCount: Int { self.classLabels.count }
    /// The widths from input to output (`[64, 64, 10]`).
    public var widths: [Int] { [self.inputCount] + self.layers.map(\.outputCount) }
    /// The number of trainable parameters.
    public var parameterCount: Int { self.layers.reduce(0) { $0 + $1.parameterCount } }
    /// The hidden-layer shape.
    public var architecture: Architecture { Architecture(hidden: self.layers.dropLast().map(\.outputCount)) }

    /// The logits (pre-softmax scores) for each row of `inputs`.
    ///
    /// - Throws: ``ComputeError`` when the width differs from ``inputCount``, there are no rows,
    ///   or a value is not finite.
    public func logits(_ inputs: Matrix) throws(ComputeError) -> Matrix {
        try self.checkInputs(inputs)
        var activations = inputs
        for (index, layer) in self.layers.enumerated() {
            var next = try activations.multiplied(by: layer.weights)
            try next.addRowVector(layer.bias)
            if index < self.layers.count - 1 { next.applyReLU() }
            activations = next
        }
        return activations
    }

    /// The class probabilities (softmax of the logits) for each row.
    public func probabilities(_ inputs: Matrix) throws(ComputeError) -> Matrix {
        try self.logits(inputs).softmaxPerRow()
    }

    /// The predicted class label of each row.
    public func predictLabels(_ inputs: Matrix) throws(ComputeError) -> [Int] {
        try self.logits(inputs).argmaxPerRow().map { self.classLabels[$0] }
    }

    func checkInputs(_ inputs: Matrix) throws(ComputeError) {
        guard inputs.rows > 0 else { throw ComputeError(.emptyDataset, "model input", "no rows to compute") }
        guard inputs.columns == self.inputCount else {
            throw ComputeError(
                .shapeMismatch,
                "model input",
                "rows have \(inputs.columns) features; the model takes \(self.inputCount)"
            )
        }
        try inputs.checkFinite("model input")
    }
}

extension MLP {
    /// The hidden-layer widths of an MLP, parsed from the CLI's `--model` text.
    public struct Architecture: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The widths of the hidden layers, input side first; empty for softmax regression.
        public var hidden: [Int]

        /// An architecture with these hidden widths.
        public init(hidden: [Int]) {
            precondition(hidden.allSatisfy { $0 > 0 }, "hidden widths must be positive")
            self.hidden = hidden
        }

        /// Softmax regression: no hidden layer.
        public static let softmax = Architecture(hidden: [])

        /// An MLP with these hidden widths.
        public static func mlp(hidden: [Int]) -> Architecture { Architecture(hidden: hidden) }

        /// Parses `softmax`, `mlp:64` or `mlp:128,64`.
        public init(parsing text: String) throws(ComputeError) {
            let lowered = text.lowercased()
            if lowered == "softmax" || lowered == "logistic" {
                self.init(hidden: [])
                return
            }
            guard lowered.hasPrefix("mlp:") else {
                throw ComputeError(
                    .invalidArgument,
                    "model \"\(text)\"",
                    "expected softmax, mlp:WIDTH or mlp:WIDTH,WIDTH,…"
                )
            }
            var hidden: [Int] = []
            for part in lowered.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false) {
                guard let width = Int(part), width > 0, width <= 65_536 else {
                    throw ComputeError(
                        .invalidArgument,
                        "model \"\(text)\"",
                        "hidden width \"\(part)\" is not a positive integer"
                    )
                }
                hidden.append(width)
            }
            self.init(hidden: hidden)
        }

        /// `softmax` or `mlp:128,64`, the form ``init(parsing:)`` reads.
        public var description: String {
            self.hidden.isEmpty ? "softmax" : "mlp:" + self.hidden.map(String.init).joined(separator: ",")
        }
    }
}
