import MeshCompute
import MeshCore
import Testing

@Suite("Int8 quantization")
struct QuantizationTests {
    @Test func int8KeepsAccuracyAgreementAndShrinksFourfold() throws {
        let model = Fixtures.trainedDigits.model
        let test = Fixtures.digits.test
        let int8 = QuantizedMLP(quantizing: model)
        let fp32Report = try EvaluationReport(logits: model.logits(test.features), data: test)
        let int8Report = try EvaluationReport(logits: int8.logits(test.features), data: test)
        let agreement = EvaluationReport.agreement(
            try model.predictLabels(test.features),
            try int8.predictLabels(test.features)
        )
        #expect(
            abs(int8Report.accuracy - fp32Report.accuracy) <= 0.005,
            "fp32 \(fp32Report.accuracy), int8 \(int8Report.accuracy)"
        )
        #expect(agreement >= 0.99, "top-1 agreement \(agreement)")
        let fp32Bytes = WeightsFile.encode(model).count
        let int8Bytes = WeightsFile.encode(int8).count
        #expect(Double(fp32Bytes) / Double(int8Bytes) >= 3.5, "\(fp32Bytes) bytes vs \(int8Bytes)")
    }

    @Test(arguments: [
        (Float(2.5), Float(1), Int8(3)), (-2.5, 1, -3), (0.5, 1, 1), (-0.5, 1, -1), (0.49, 1, 0),
        (0.49999997, 1, 0), (-0.49999997, 1, 0), (1.5, 1, 2), (126.5, 1, 127), (-126.5, 1, -127),
        (1000, 1, 127), (-1000, 1, -127), (3, 0, 0), (127, 1, 127), (.greatestFiniteMagnitude, 1, 127),
    ])
    func codesRoundHalfAwayFromZeroAndClamp(value: Float, scale: Float, code: Int8) {
        #expect(Quantization.code(value, scale: scale) == code)
    }

    @Test func perChannelScalesUseEachColumnsLargestMagnitude() throws {
        let layer = try DenseLayer(
            weights: Matrix([[1, -0.5, 0], [-2, 0.25, 0], [0.5, 0.1, 0]]),
            bias: [0, 0, 0]
        )
        let q = QuantizedLayer(quantizing: layer)
        #expect(q.scales == [2 / 127, 0.5 / 127, 0])
        // Input-major, like the float weights: input 0's codes first.
        #expect(Array(q.weights[0..<3]) == [64, -127, 0])
        #expect(Array(q.weights[3..<6]) == [-127, 64, 0])
        #expect(Array(q.weights[6..<9]) == [32, 25, 0])
        let restored = q.dequantizedWeights
        #expect(abs(restored[1, 0] - -2) < 1e-6)
    }

    /// The vectorized kernel against the reference formula written out with scalars, on widths
    /// that are not multiples of the kernel's 16 lanes.
    @Test func theIntegerKernelMatchesTheScalarDefinition() throws {
        var rng = SeededRandom(seed: 3, key: "int8-kernel")
        let model = MLP(architecture: .mlp(hidden: [17, 33]), inputs: 5, classLabels: [0, 1, 2], using: &rng)
        let int8 = QuantizedMLP(quantizing: model)
        let inputs = try Matrix(rows: 4, columns: 5, values: (0..<20).map { _ in rng.nextUnitFloat() * 6 - 3 })
        let logits = try int8.logits(inputs)
        for row in 0..<inputs.rows {
            var x = Array(inputs.row(row))
            for (index, layer) in int8.layers.enumerated() {
                let scale = x.map(abs).max()! / 127
                let codes = x.map { Int32(Quantization.code($0, scale: scale)) }
                x = (0..<layer.outputCount).map { j in
                    var sum: Int32 = 0
                    for i in 0..<layer.inputCount { sum += codes[i] * Int32(layer.weights[i * layer.outputCount + j]) }
                    let value = Float(sum) * (scale * layer.scales[j]) + layer.bias[j]
                    return index < int8.layers.count - 1 ? max(value, 0) : value
                }
            }
            #expect(Array(logits.row(row)) == x)
        }
    }

    @Test func anAllZeroRowGivesTheBias() throws {
        let layer = try DenseLayer(weights: Matrix([[1, 2], [3, 4]]), bias: [0.5, -0.25])
        let model = try MLP(layers: [layer], classLabels: [0, 1])
        let logits = try QuantizedMLP(quantizing: model).logits(Matrix(rows: 1, columns: 2))
        #expect(logits.values == [0.5, -0.25])
    }

    @Test func badInputIsATypedError() throws {
        let int8 = QuantizedMLP(quantizing: Fixtures.trainedDigits.model)
        #expect { try int8.logits(Matrix(rows: 2, columns: 10)) } throws: {
            ($0 as? ComputeError)?.code == .shapeMismatch
        }
        #expect { try int8.logits(Matrix(rows: 0, columns: 64)) } throws: {
            ($0 as? ComputeError)?.code == .emptyDataset
        }
        var bad = Matrix(rows: 1, columns: 64)
        bad[0, 5] = .infinity
        #expect { try int8.logits(bad) } throws: { ($0 as? ComputeError)?.code == .nonFinite }
    }
}
