import Foundation
import MeshCompute
import MeshCore

/// Digits, split and standardized once, in the protocol's form and in MeshCompute's.
enum NodeFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let digitsTable: CSVTable = {
        let path = repositoryRoot.appendingPathComponent("scenarios/data/digits.csv").path
        let text = try! String(contentsOfFile: path, encoding: .utf8)
        return try! CSVTable.parse(text: text, source: "digits.csv")
    }()

    /// A stratified 80/20 split (seed 0), standardized on its training part.
    static let digits: (train: CSVTable, test: CSVTable) = {
        var rng = SeededRandom(seed: 0, key: "split")
        let table = digitsTable
        let split = try! StratifiedSplit(labels: table.labels, testFraction: 0.2, source: table.source, using: &rng)
        let train = table.selecting(rows: split.train)
        let scaler = try! Standardizer(fitting: train)
        return (scaler.transform(train), scaler.transform(table.selecting(rows: split.test)))
    }()

    static let classLabels = Array(0...9)

    static func rows(_ table: CSVTable) -> LabeledRows {
        LabeledRows(
            features: TensorFrame(rows: table.rowCount, columns: table.featureCount, values: table.features),
            labels: table.labels
        )
    }

    static func data(_ table: CSVTable, classLabels: [Int] = classLabels) -> LabeledData {
        try! LabeledData(table: table, classLabels: classLabels)
    }

    static let trainRows = rows(digits.train)
    static let testRows = rows(digits.test)

    /// The rows of `table` whose label is in `labels`, at most `limit` of them, in order.
    static func subset(_ table: CSVTable, labels: Set<Int>, limit: Int = .max) -> CSVTable {
        let indices = table.labels.indices.filter { labels.contains(table.labels[$0]) }
        return table.selecting(rows: Array(indices.prefix(limit)))
    }

    /// Few epochs: debug builds run the SIMD loops unoptimized.
    static let hyperparameters = Hyperparameters(epochs: 3, seed: 7)

    static func configuration(_ hyperparameters: Hyperparameters) -> TrainingConfiguration {
        let optimizer: Optimizer =
            switch hyperparameters.optimizer {
            case .adam(let beta1, let beta2, let epsilon): .adam(beta1: beta1, beta2: beta2, epsilon: epsilon)
            case .sgd(let momentum): .sgd(momentum: momentum)
            }
        return TrainingConfiguration(
            epochs: hyperparameters.epochs, batchSize: hyperparameters.batchSize,
            learningRate: hyperparameters.learningRate, l2: hyperparameters.l2, optimizer: optimizer,
            trainable: hyperparameters.trainable == .head ? .head : .all, seed: hyperparameters.seed)
    }

    static let trainRequest = TrainRequest(
        architecture: "mlp:32", classLabels: classLabels, hyperparameters: hyperparameters, data: .inline(trainRows))

    /// The model of `trainRequest`, trained by MeshCompute directly.
    static let directModel: MLP = {
        let model = MLP(
            architecture: .mlp(hidden: [32]), inputs: 64, classLabels: classLabels, seed: hyperparameters.seed)
        return try! Trainer.train(model, on: data(digits.train), configuration: configuration(hyperparameters)).model
    }()

    static let directWeights = SerializedWeights(WeightsFile.encode(directModel))
    static let directInt8 = QuantizedMLP(quantizing: directModel)
}

/// One node for the suites that need a live port; its thread lives for the test process.
let sharedNode = ComputeNode()
