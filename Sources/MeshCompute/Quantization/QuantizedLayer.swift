/// One dense layer with int8 weights, symmetric per output channel.
///
/// `weights` is output-major (`weights[j * inputCount + i]` connects input `i` to output `j`) so
/// each output is a dot product of two contiguous int8 vectors. The real weight is
/// `Float(weights[j * inputCount + i]) * scales[j]`; the bias stays float.
public struct QuantizedLayer: Sendable, Hashable {
    /// The number of inputs.
    public let inputCount: Int
    /// The number of outputs.
    public let outputCount: Int
    /// `outputCount * inputCount` codes in `-127...127`, output-major.
    public let weights: [Int8]
    /// One scale per output: `max_i |W[i][j]| / 127` (0 for an all-zero column).
    public let scales: [Float]
    /// One float bias per output.
    public let bias: [Float]

    /// A layer from stored parts; throws when the counts do not fit, a code is -128, or a scale
    /// or bias is not finite (or a scale negative).
    public init(inputCount: Int, outputCount: Int, weights: [Int8], scales: [Float], bias: [Float]) throws(ComputeError) {
        guard inputCount > 0, outputCount > 0, weights.count == inputCount * outputCount,
            scales.count == outputCount, bias.count == outputCount
        else {
            throw ComputeError(
                .shapeMismatch, "int8 layer",
                "\(weights.count) codes, \(scales.count) scales, \(bias.count) biases for \(inputCount) x \(outputCount)")
        }
        guard inputCount <= Self.maximumInputs else {
            throw ComputeError(.invalidArgument, "int8 layer", "\(inputCount) inputs could overflow an Int32 sum")
        }
        if let bad = weights.firstIndex(of: -128) {
            throw ComputeError(.unsupportedFormat, "int8 layer", at: "code \(bad)", "-128 is outside the symmetric range")
        }
        if let bad = scales.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw ComputeError(.nonFinite, "int8 layer scales", at: "output \(bad)", "scale \(scales[bad]) is not a finite non-negative number")
        }
        if let bad = bias.firstIndex(where: { !$0.isFinite }) {
            throw ComputeError(.nonFinite, "int8 layer bias", at: "output \(bad)", "bias \(bias[bad]) is not finite")
        }
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.scales = scales
        self.bias = bias
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
            for i in 0..<inputs { codes[j * inputs + i] = Quantization.code(w[i * outputs + j], scale: scale) }
        }
        self.inputCount = inputs
        self.outputCount = outputs
        self.weights = codes
        self.scales = scales
        self.bias = layer.bias
    }

    /// The float weights the codes stand for, input-major like ``DenseLayer/weights``.
    public var dequantizedWeights: Matrix {
        var values = [Float](repeating: 0, count: self.inputCount * self.outputCount)
        for j in 0..<self.outputCount {
            for i in 0..<self.inputCount {
                values[i * self.outputCount + j] = Float(self.weights[j * self.inputCount + i]) * self.scales[j]
            }
        }
        return Matrix(rows: self.inputCount, columns: self.outputCount, unchecked: values)
    }

    /// The largest input count for which `127 * 127 * inputs` fits an `Int32`.
    public static let maximumInputs = Int(Int32.max) / (127 * 127)
}

/// The symmetric int8 scheme of the reference (../shared/reference/README.md).
public enum Quantization {
    /// `clamp(round(value / scale), -127, 127)`, rounding half away from zero; 0 when `scale` is 0.
    @inline(__always)
    public static func code(_ value: Float, scale: Float) -> Int8 {
        guard scale > 0 else { return 0 }
        let rounded = (value / scale).rounded(.toNearestOrAwayFromZero)
        return Int8(min(max(rounded, -127), 127))
    }

    /// The symmetric scale of a row: `max |x| / 127`.
    @inline(__always)
    public static func scale(of values: UnsafeBufferPointer<Float>) -> Float {
        var largest: Float = 0
        for value in values { largest = max(largest, abs(value)) }
        return largest / 127
    }
}
