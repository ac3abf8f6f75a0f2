import MeshCore

/// One fully connected layer: `y = x · weights + bias`, with `weights` input-major
/// (`weights[i, j]` connects input `i` to output `j`, as in the reference vectors).
public struct DenseLayer: Sendable, Hashable {
    /// `inputs x outputs`.
    public var weights: Matrix
    /// One value per output.
    public var bias: [Float]

    /// A layer from its parameters; throws when the bias does not match the weights' outputs.
    public init(weights: Matrix, bias: [Float]) throws(ComputeError) {
        guard bias.count == weights.columns else {
            throw ComputeError(
                .shapeMismatch,
                "dense layer",
                "bias has \(bias.count) values for \(weights.columns) outputs"
            )
        }
        self.weights = weights
        self.bias = bias
    }

    /// The number of inputs.
    public var inputCount: Int { self.weights.rows }
    /// The number of outputs.
    public var outputCount: Int { self.weights.columns }
    /// The number of trainable parameters.
    public var parameterCount: Int { self.weights.values.count + self.bias.count }

    /// A layer initialized from `rng`: He-uniform (`±sqrt(6 / inputs)`) before a ReLU, Glorot-uniform
    /// (`±sqrt(6 / (inputs + outputs))`) for the logits layer; biases start at zero.
    static func initialized(inputs: Int, outputs: Int, beforeReLU: Bool, using rng: inout SeededRandom) -> DenseLayer {
        let limit = beforeReLU ? (6 / Float(inputs)).squareRoot() : (6 / Float(inputs + outputs)).squareRoot()
        var values = [Float](repeating: 0, count: inputs * outputs)
        for index in values.indices { values[index] = (rng.nextUnitFloat() * 2 - 1) * limit }
        return DenseLayer(
            unchecked: Matrix(rows: inputs, columns: outputs, unchecked: values),
            bias: [Float](repeating: 0, count: outputs)
        )
    }

    init(unchecked weights: Matrix, bias: [Float]) {
        assert(weights.columns == bias.count)
        self.weights = weights
        self.bias = bias
    }
}
