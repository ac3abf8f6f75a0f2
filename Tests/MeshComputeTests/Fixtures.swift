import Foundation
import MeshCompute
import MeshCore

/// Data and models shared by the suites; each is built once, on first use, even when tests run
/// in parallel (a `static let` initializes exactly once).
enum Fixtures {
    /// The repository root, found from this file so tests work from any working directory.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// digits.csv, parsed.
    static let digitsTable: CSVTable = {
        let path = repositoryRoot.appendingPathComponent("scenarios/data/digits.csv").path
        let text = try! String(contentsOfFile: path, encoding: .utf8)
        return try! CSVTable.parse(text: text, source: "digits.csv")
    }()

    /// A stratified 80/20 split of `table`, standardized on its training part.
    static func split(_ table: CSVTable, seed: UInt64) -> (train: LabeledData, test: LabeledData) {
        var rng = SeededRandom(seed: seed, key: "split")
        let split = try! StratifiedSplit(labels: table.labels, testFraction: 0.2, source: table.source, using: &rng)
        let train = table.selecting(rows: split.train)
        let scaler = try! Standardizer(fitting: train)
        let classes = table.classLabels
        return (
            try! LabeledData(table: scaler.transform(train), classLabels: classes),
            try! LabeledData(table: scaler.transform(table.selecting(rows: split.test)), classLabels: classes)
        )
    }

    /// digits, seed 0 split.
    static let digits = split(digitsTable, seed: 0)

    /// The reference run's configuration (Adam 1e-3, batch 32, L2 1e-4), 60 epochs.
    static let referenceConfiguration = TrainingConfiguration(epochs: 60, seed: 0)

    /// A 64-64-10 MLP trained on `digits` with the reference configuration.
    static let trainedDigits: TrainingResult = {
        let model = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: digits.train.classLabels, seed: 0)
        return try! Trainer.train(model, on: digits.train, configuration: referenceConfiguration)
    }()
}
