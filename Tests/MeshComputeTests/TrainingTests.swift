import MeshCompute
import MeshCore
import Testing

@Suite("Training")
struct TrainingTests {
    @Test func digitsMLPReachesTheReferenceBand() throws {
        // numpy reaches 98.06 ± 0.20 % over 5 seeds; one seed is noisy, so the assertion is a
        // safe lower bound below which the README says to suspect a bug. The 5-seed figure is in
        // docs/COMPUTE.md.
        let result = Fixtures.trainedDigits
        let test = Fixtures.digits.test
        let report = try EvaluationReport(logits: result.model.logits(test.features), data: test)
        #expect(result.epochs.count == 60)
        #expect(report.accuracy >= 0.965, "test accuracy \(report.accuracy)")
        #expect(report.macroF1 >= 0.96)
        #expect(result.epochs.last!.trainLoss < result.epochs.first!.trainLoss)
    }

    @Test func softmaxRegressionLearnsDigits() throws {
        let (train, test) = Fixtures.digits
        let model = MLP(architecture: .softmax, inputs: 64, classLabels: train.classLabels, seed: 3)
        #expect(model.layers.count == 1)
        let result = try Trainer.train(
            model,
            on: train,
            configuration: TrainingConfiguration(epochs: 20, learningRate: 1e-2, seed: 3)
        )
        let report = try EvaluationReport(logits: result.model.logits(test.features), data: test)
        // scikit-learn's logistic regression: 97.00 ± 0.75 %; 20 epochs of Adam get most of it.
        #expect(report.accuracy >= 0.93, "test accuracy \(report.accuracy)")
    }

    @Test func sgdWithMomentumLearnsDigits() throws {
        let (train, test) = Fixtures.digits
        let model = MLP(architecture: .mlp(hidden: [32]), inputs: 64, classLabels: train.classLabels, seed: 4)
        let configuration = TrainingConfiguration(
            epochs: 10,
            learningRate: 0.01,
            optimizer: .sgd(momentum: 0.9),
            seed: 4
        )
        let result = try Trainer.train(model, on: train, configuration: configuration)
        let report = try EvaluationReport(logits: result.model.logits(test.features), data: test)
        #expect(report.accuracy >= 0.93, "test accuracy \(report.accuracy)")
    }

    @Test func sameSeedGivesTheSameWeightsBitForBit() throws {
        let train = Fixtures.digits.train.selecting(rows: Array(0..<300))
        let configuration = TrainingConfiguration(epochs: 2, seed: 11)
        func run() throws -> MLP {
            let model = MLP(architecture: .mlp(hidden: [16, 8]), inputs: 64, classLabels: train.classLabels, seed: 11)
            return try Trainer.train(model, on: train, configuration: configuration).model
        }
        let first = try run()
        #expect(try run() == first)
        var other = configuration
        other.seed = 12
        let model = MLP(architecture: .mlp(hidden: [16, 8]), inputs: 64, classLabels: train.classLabels, seed: 11)
        #expect(try Trainer.train(model, on: train, configuration: other).model != first)
    }

    @Test func initializationIsSeededAndScaled() {
        let a = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: Array(0..<10), seed: 5)
        let b = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: Array(0..<10), seed: 5)
        let c = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: Array(0..<10), seed: 6)
        #expect(a == b)
        #expect(a != c)
        // He-uniform bound sqrt(6/64) for the hidden layer, Glorot sqrt(6/74) for the logits.
        #expect(a.layers[0].weights.values.allSatisfy { abs($0) <= (6.0 / 64).squareRoot() })
        #expect(a.layers[1].weights.values.allSatisfy { abs($0) <= (6.0 / 74).squareRoot() })
        #expect(a.layers.allSatisfy { $0.bias.allSatisfy { $0 == 0 } })
        #expect(a.widths == [64, 64, 10])
        #expect(a.parameterCount == 64 * 64 + 64 + 64 * 10 + 10)
    }

    @Test func progressIsReportedPerEpochWithValidation() throws {
        let (train, test) = Fixtures.digits
        var seen: [EpochReport] = []
        let model = MLP(architecture: .softmax, inputs: 64, classLabels: train.classLabels, seed: 1)
        _ = try Trainer.train(
            model,
            on: train,
            configuration: TrainingConfiguration(epochs: 3, seed: 1),
            validation: test
        ) { seen.append($0) }
        #expect(seen.map(\.epoch) == [1, 2, 3])
        #expect(seen.allSatisfy { $0.validationAccuracy != nil && $0.validationLoss != nil && $0.milliseconds > 0 })
    }

    @Test(arguments: ["softmax", "mlp:64", "mlp:128,64", "MLP:8"])
    func architecturesParse(_ text: String) throws {
        let architecture = try MLP.Architecture(parsing: text)
        #expect(architecture.description == text.lowercased())
    }

    @Test(arguments: ["mlp", "mlp:", "mlp:0", "mlp:64,", "mlp:x", "cnn:3", ""])
    func badArchitecturesAreRejected(_ text: String) {
        #expect(throws: ComputeError.self) { try MLP.Architecture(parsing: text) }
    }
}
