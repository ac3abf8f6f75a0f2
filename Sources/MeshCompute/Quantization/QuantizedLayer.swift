/// One dense layer with int8 weights, symmetric per output channel.
///
/// `weights` is input-major like ``DenseLayer/weights`` and the reference's `W1q`
/// (`weights[i * outputCount + j]` connects input `i` to output `j`). The real weight is
/// `Float(weights[i * outputCount + j]) * scales[j]`; the bias stays float.
public struct QuantizedLayer: Sendable, Hashable {
    /// The number of inputs.
    public let inputCount: Int
    /// The number of outputs.
    public let outputCount: Int
    /// `inputCount * outputCount` codes in `-127...127`, input-major.
    public let weights: [Int8]
    /// One scale per output: `max_i |W[i][j]| / 127` (0 for an all-zero column).
    public let scales: [Float]
    /// One float bias per output.
    public let bias: [Float]

    /// A layer from stored parts; throws when the counts do not fit, a code is -128, or a scale
    /// or bias is not finite (or a scale negative).
    public init(inputCount: Int, outputCount: Int, weights: [Int8], scales: [Float], bias: [Float]) throws(ComputeError)
    {
        guard inputCount > 0, outputCount > 0, weights.count == inputCount * outputCount,
            scales.count == outputCount, bias.count == outputCount
        else {
            throw ComputeError(
                .shapeMismatch,
                "int8 layer",
                "\(weights.count) codes, \(scales.count) scales, \(bias.count) biases for \(inputCount) x \(outputCount)"
            )
        }
        guard inputCount <= Self.maximumInputs else {
            throw ComputeError(.invalidArgument, "int8 layer", "\(inputCount) inputs could overflow an Int32 sum")
        }
        if let bad = weights.firstIndex(of: -128) {
            throw ComputeError(
                .unsupportedFormat,
                "int8 layer",
                at: "code \(bad)",
                "-128 is outside the symmetric range"
            )
        }
        if let bad = scales.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw ComputeError(
                .nonFinite,
                "int8 layer scales",
                at: "output \(bad)",
                "scale \(scales[bad]) is not a finite non-negative number"
            )
        }
        if let bad = bias.firstIndex(where: { !$0.isFinite }) {
            throw ComputeError(.nonFinite, "int8 layer bias", at: "output \(bad)", "bias \(bias[bad]) is not finite")
        }
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.scales = scales
        self.bias = bias
        self.packed = Self.pack(weights, inputs: inputCount, outputs: outputCount)
    }

    /// Quantizes a float layer: `s[j] = max_i |W[i][j]| / 127`, `q = clamp(round(W / s), ±127)`
    /// with rounding half away from zero.
    public init(quantizing layer: DenseLayer) {
        let inputs = layer.inputCount
        let outputs = layer.outputCount
        precondition(inputs <= Self.maximumInputs, "too many inputs for an Int32 accumulator")
        var scales = [Float](repeating: 0, count: outputs)
        var codes = [Int8](repeating: 0, count: inputs * outputs)
        let w = layer.weights.values
        for j in 0..<outputs {
            var largest: Float = 0
            for i in 0..<inputs { largest = max(largest, abs(w[i * outputs + j])) }
            let scale = largest / 127
            scales[j] = scale
            guard scale > 0 else { continue }
            for i in 0..<inputs { codes[i * outputs + j] = Quantization.code(w[i * outputs + j], scale: scale) }
        }
        self.inputCount = inputs
        self.outputCount = outputs
        self.weights = codes
        self.scales = scales
        self.bias = layer.bias
        self.packed = Self.pack(codes, inputs: inputs, outputs: outputs)
    }

    /// The codes again, each row padded with zeros to ``paddedOutputs`` so the integer kernel
    /// works on whole 16-lane blocks; derived from ``weights``, never stored.
    let packed: [Int8]

    /// ``outputCount`` rounded up to a multiple of ``Int8Kernel/lanes``.
    var paddedOutputs: Int { Int8Kernel.padded(self.outputCount) }

    private static func pack(_ codes: [Int8], inputs: Int, outputs: Int) -> [Int8] {
        let stride = Int8Kernel.padded(outputs)
        var packed = [Int8](repeating: 0, count: inputs * stride)
        for i in 0..<inputs {
            for j in 0..<outputs { packed[i * stride + j] = codes[i * outputs + j] }
        }
        return packed
    }

    /// Equal when the stored parts are (``packed`` follows from them).
    public static func == (lhs: QuantizedLayer, rhs: QuantizedLayer) -> Bool {
        lhs.inputCount == rhs.inputCount && lhs.outputCount == rhs.outputCount && lhs.weights == rhs.weights
            && lhs.scales.map(\.bitPattern) == rhs.scales.map(\.bitPattern)
            && lhs.bias.map(\.bitPattern) == rhs.bias.map(\.bitPattern)
    }

    /// Hashes the stored parts.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.inputCount)
        hasher.combine(self.outputCount)
        hasher.combine(self.weights)
    }

    /// The float weights the codes stand for, input-major like ``DenseLayer/weights``.
    public var dequantizedWeights: Matrix {
        var values = [Float](repeating: 0, count: self.inputCount * self.outputCount)
        for j in 0..<self.outputCount {
            for i in 0..<self.inputCount {
                values[i * self.outputCount + j] = Float(self.weights[i * self.outputCount + j]) * self.scales[j]
            }
        }
        return Matrix(rows: self.inputCount, columns: self.outputCount, unchecked: values)
    }

    /// The largest input count for which `127 * 127 * inputs` fits an `Int32`.
    public static let maximumInputs = Int(Int32.max) / (127 * 127)
}
