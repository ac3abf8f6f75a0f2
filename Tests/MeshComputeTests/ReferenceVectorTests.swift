import Foundation
import MeshCompute
import Testing

/// The reference model and the logits a correct implementation computes from it
/// (../shared/reference/README.md, copied into Resources).
struct ReferenceVectors: Decodable {
    var W1: [[Double]]
    var b1: [Double]
    var W2: [[Double]]
    var b2: [Double]
    var W1q: [[Int]]
    var s1: [Double]
    var W2q: [[Int]]
    var s2: [Double]
    var x: [[Double]]
    var y: [Int]
    var logits_fp32: [[Double]]
    var logits_int8_row: [[Double]]

    static let shared: ReferenceVectors = {
        let url = Bundle.module.url(forResource: "mlp-int8-vectors", withExtension: "json")!
        return try! JSONDecoder().decode(ReferenceVectors.self, from: Data(contentsOf: url))
    }()

    static func matrix(_ rows: [[Double]]) -> Matrix {
        try! Matrix(rows.map { $0.map(Float.init) })
    }

    var model: MLP {
        try! MLP(
            layers: [
                DenseLayer(weights: Self.matrix(self.W1), bias: self.b1.map(Float.init)),
                DenseLayer(weights: Self.matrix(self.W2), bias: self.b2.map(Float.init)),
            ],
            classLabels: Array(0..<10)
        )
    }
}

@Suite("Reference vectors")
struct ReferenceVectorTests {
    let reference = ReferenceVectors.shared

    @Test func fp32LogitsMatch() throws {
        let logits = try self.reference.model.logits(ReferenceVectors.matrix(self.reference.x))
        let expected = ReferenceVectors.matrix(self.reference.logits_fp32)
        #expect(logits.shape == expected.shape)
        let worst = zip(logits.values, expected.values).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "largest fp32 logit difference \(worst)")
        // `y` are the true labels; the model is not perfect, so compare with the reference's argmax.
        #expect(
            try self.reference.model.predictLabels(ReferenceVectors.matrix(self.reference.x)) == expected.argmaxPerRow()
        )
    }

    @Test func weightCodesAndScalesMatch() {
        let quantized = QuantizedMLP(quantizing: self.reference.model)
        for (layer, (codes, scales)) in [
            (self.reference.W1q, self.reference.s1), (self.reference.W2q, self.reference.s2),
        ].enumerated() {
            let q = quantized.layers[layer]
            var mismatches = 0
            for i in 0..<q.inputCount {
                for j in 0..<q.outputCount where Int(q.weights[i * q.outputCount + j]) != codes[i][j] {
                    mismatches += 1
                }
            }
            #expect(mismatches == 0, "layer \(layer): \(mismatches) int8 codes differ from the reference")
            let worst = zip(q.scales, scales).map { abs(Double($0) - $1) / max($1, 1e-30) }.max()!
            #expect(worst < 1e-6, "layer \(layer): scales differ by a relative \(worst)")
        }
    }

    @Test func int8LogitsMatch() throws {
        let quantized = QuantizedMLP(quantizing: self.reference.model)
        let logits = try quantized.logits(ReferenceVectors.matrix(self.reference.x))
        let expected = ReferenceVectors.matrix(self.reference.logits_int8_row)
        let worst = zip(logits.values, expected.values).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "largest int8 logit difference \(worst)")
    }

    @Test func int8PathIsNotTheFloatPath() throws {
        // The int8 logits differ from fp32 by the quantization error, which a dequantize-then-
        // sgemm shortcut on unquantized activations would not reproduce.
        let quantized = QuantizedMLP(quantizing: self.reference.model)
        let logits = try quantized.logits(ReferenceVectors.matrix(self.reference.x))
        let fp32 = ReferenceVectors.matrix(self.reference.logits_fp32)
        let gap = zip(logits.values, fp32.values).map { abs($0 - $1) }.max()!
        #expect(gap > 1e-3)
    }
}
