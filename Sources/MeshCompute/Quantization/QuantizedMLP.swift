/// An ``MLP`` after int8 post-training quantization, with an inference path that computes in
/// integers.
///
/// Weights are int8, symmetric per output channel. At inference each layer's input row is
/// quantized to int8 with its own scale `s_x = max |x| / 127`; products of int8 codes accumulate
/// in `Int32`; the sum is rescaled by `s_x * s[j]`, then the float bias and ReLU apply. This is
/// the scheme of ../shared/reference/mlp-int8-vectors.json (`logits_int8_row`).
///
/// ```swift
/// let int8 = QuantizedMLP(quantizing: model)
/// let logits = try int8.logits(test.features)
/// ```
public struct QuantizedMLP: Sendable, Hashable {
    /// The layers, input first; every one but the last is followed by a ReLU.
    public let layers: [QuantizedLayer]
    /// The class label of each output.
    public let classLabels: [Int]

    /// Quantizes every layer of `model`.
    public init(quantizing model: MLP) {
        self.layers = model.layers.map(QuantizedLayer.init(quantizing:))
        self.classLabels = model.classLabels
    }

    /// A model from stored layers; throws when widths or the label count do not fit.
    public init(layers: [QuantizedLayer], classLabels: [Int]) throws(ComputeError) {
        guard let last = layers.last else { throw ComputeError(.shapeMismatch, "int8 model", "no layers") }
        for index in 1..<layers.count where layers[index].inputCount != layers[index - 1].outputCount {
            throw ComputeError(
                .shapeMismatch,
                "int8 model",
                at: "layer \(index)",
                "takes \(layers[index].inputCount) inputs but layer \(index - 1) gives \(layers[index - 1].outputCount)"
            )
        }
        guard last.outputCount == classLabels.count, Set(classLabels).count == classLabels.count else {
            throw ComputeError(
                .shapeMismatch,
                "int8 model",
                "\(last.outputCount) outputs for class labels \(classLabels)"
            )
        }
        self.layers = layers
        self.classLabels = classLabels
    }

    /// The number of input features.
    public var inputCount: Int { self.layers[0].inputCount }
    /// The widths from input to output.
    public var widths: [Int] { [self.inputCount] + self.layers.map(\.outputCount) }

    /// The logits for each row of `inputs`, computed on the int8 path.
    ///
    /// - Throws: ``ComputeError`` for no rows, the wrong width, or a non-finite input.
    public func logits(_ inputs: Matrix) throws(ComputeError) -> Matrix {
        guard inputs.rows > 0 else { throw ComputeError(.emptyDataset, "int8 model input", "no rows to compute") }
        guard inputs.columns == self.inputCount else {
            throw ComputeError(
                .shapeMismatch,
                "int8 model input",
                "rows have \(inputs.columns) features; the model takes \(self.inputCount)"
            )
        }
        try inputs.checkFinite("int8 model input")
        let widest = self.widths.max()!
        let last = self.layers.count - 1
        let classes = self.layers[last].outputCount
        var output = Matrix(rows: inputs.rows, columns: classes)
        // Two float rows, one int8 row and the sums, reused for every row and layer.
        var x = UnsafeMutablePointer<Float>.allocate(capacity: widest)
        var y = UnsafeMutablePointer<Float>.allocate(capacity: widest)
        let codes = UnsafeMutablePointer<Int8>.allocate(capacity: widest)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: Int8Kernel.padded(widest))
        defer {
            x.deallocate()
            y.deallocate()
            codes.deallocate()
            sums.deallocate()
        }
        inputs.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for row in 0..<inputs.rows {
                    x.update(from: source.baseAddress! + row * inputs.columns, count: inputs.columns)
                    for (index, layer) in self.layers.enumerated() {
                        Self.forward(layer, input: x, codes: codes, sums: sums, output: y, relu: index < last)
                        swap(&x, &y)
                    }
                    (target.baseAddress! + row * classes).update(from: x, count: classes)
                }
            }
        }
        return output
    }

    /// The predicted class label of each row, on the int8 path.
    public func predictLabels(_ inputs: Matrix) throws(ComputeError) -> [Int] {
        try self.logits(inputs).argmaxPerRow().map { self.classLabels[$0] }
    }

    /// One layer for one row: quantize `input`, integer products summed in `Int32`, rescale,
    /// bias, ReLU.
    @inline(__always)
    private static func forward(
        _ layer: QuantizedLayer,
        input: UnsafeMutablePointer<Float>,
        codes: UnsafeMutablePointer<Int8>,
        sums: UnsafeMutablePointer<Int32>,
        output: UnsafeMutablePointer<Float>,
        relu: Bool
    ) {
        let inputs = layer.inputCount
        let inputScale = Quantization.scale(of: UnsafeBufferPointer(start: input, count: inputs))
        for i in 0..<inputs { codes[i] = Quantization.code(input[i], scale: inputScale) }
        layer.packed.withUnsafeBufferPointer { packed in
            Int8Kernel.accumulate(
                codes: codes,
                inputs: inputs,
                weights: packed.baseAddress!,
                stride: layer.paddedOutputs,
                sums: sums
            )
        }
        layer.scales.withUnsafeBufferPointer { scales in
            layer.bias.withUnsafeBufferPointer { bias in
                for j in 0..<layer.outputCount {
                    let value = Float(sums[j]) * (inputScale * scales[j]) + bias[j]
                    output[j] = relu ? max(value, 0) : value
                }
            }
        }
    }
}
