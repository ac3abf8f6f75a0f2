import MeshCompute
import MeshCore
import Testing

/// Every kind of bad input the compute node can be sent comes back as a typed ``ComputeError``.
@Suite("Bad input")
struct BadInputTests {
    static let model = MLP(architecture: .mlp(hidden: [4]), inputs: 3, classLabels: [0, 1], seed: 1)

    static func code(_ body: () throws -> Void) -> ComputeError.Code? {
        do {
            try body()
            return nil
        } catch {
            return (error as? ComputeError)?.code
        }
    }

    @Test func shapeMismatches() throws {
        #expect(Self.code { _ = try Self.model.logits(Matrix(rows: 2, columns: 4)) } == .shapeMismatch)
        let data = try LabeledData(features: Matrix(rows: 2, columns: 5), labels: [0, 1], classLabels: [0, 1])
        #expect(
            Self.code { _ = try Trainer.train(Self.model, on: data, configuration: .init(epochs: 1)) } == .shapeMismatch
        )
        #expect(
            Self.code { _ = try LabeledData(features: Matrix(rows: 2, columns: 3), labels: [0], classLabels: [0, 1]) }
                == .shapeMismatch
        )
        let wide = try DenseLayer(weights: Matrix(rows: 3, columns: 4), bias: [0, 0, 0, 0])
        let narrow = try DenseLayer(weights: Matrix(rows: 5, columns: 2), bias: [0, 0])
        #expect(Self.code { _ = try MLP(layers: [wide, narrow], classLabels: [0, 1]) } == .shapeMismatch)
        #expect(Self.code { _ = try DenseLayer(weights: Matrix(rows: 3, columns: 4), bias: [0]) } == .shapeMismatch)
    }

    @Test func nonFiniteInputsAndWeights() throws {
        var input = Matrix(rows: 2, columns: 3)
        input[1, 1] = .nan
        #expect(Self.code { _ = try Self.model.logits(input) } == .nonFinite)
        #expect(Self.code { _ = try LabeledData(features: input, labels: [0, 1], classLabels: [0, 1]) } == .nonFinite)
        var weights = Matrix(rows: 3, columns: 2)
        weights[0, 0] = .infinity
        #expect(
            Self.code { _ = try MLP(layers: [DenseLayer(weights: weights, bias: [0, 0])], classLabels: [0, 1]) }
                == .nonFinite
        )
    }

    @Test func divergenceIsReportedNotReturned() throws {
        let data = try LabeledData(
            features: Matrix([[1e18, -1e18, 1e18], [-1e18, 1e18, 0]]),
            labels: [0, 1],
            classLabels: [0, 1]
        )
        let configuration = TrainingConfiguration(epochs: 3, learningRate: 1e10, optimizer: .sgd(momentum: 0.5))
        #expect(Self.code { _ = try Trainer.train(Self.model, on: data, configuration: configuration) } == .nonFinite)
    }

    @Test func emptyDatasets() {
        #expect(
            Self.code { _ = try LabeledData(features: Matrix(rows: 0, columns: 3), labels: [], classLabels: [0, 1]) }
                == .emptyDataset
        )
        #expect(Self.code { _ = try Self.model.logits(Matrix(rows: 0, columns: 3)) } == .emptyDataset)
    }

    @Test func labelsOutsideTheClasses() throws {
        var error: ComputeError?
        do {
            _ = try LabeledData(
                features: Matrix(rows: 3, columns: 3),
                labels: [0, 1, 7],
                classLabels: [0, 1],
                subject: "rows"
            )
        } catch let thrown {
            error = thrown
        }
        #expect(error?.code == .labelOutOfRange)
        #expect(error?.location == "row 2")
        let other = try LabeledData(features: Matrix(rows: 2, columns: 3), labels: [0, 2], classLabels: [0, 2])
        #expect(
            Self.code { _ = try Trainer.train(Self.model, on: other, configuration: .init(epochs: 1)) }
                == .labelOutOfRange
        )
        #expect(
            Self.code { _ = try Self.model.lossAndGradients(inputs: Matrix(rows: 1, columns: 3), targets: [2]) }
                == .labelOutOfRange
        )
    }

    @Test(arguments: [
        TrainingConfiguration(epochs: -1), TrainingConfiguration(batchSize: 0), TrainingConfiguration(learningRate: 0),
        TrainingConfiguration(learningRate: .nan), TrainingConfiguration(l2: -1),
        TrainingConfiguration(optimizer: .adam(beta1: 1)), TrainingConfiguration(optimizer: .sgd(momentum: -0.1)),
    ])
    func hyperparametersOutOfRange(configuration: TrainingConfiguration) throws {
        let data = try LabeledData(features: Matrix(rows: 2, columns: 3), labels: [0, 1], classLabels: [0, 1])
        #expect(
            Self.code { _ = try Trainer.train(Self.model, on: data, configuration: configuration) } == .invalidArgument
        )
    }
}
