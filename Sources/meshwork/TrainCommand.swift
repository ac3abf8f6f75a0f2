import ArgumentParser
import Foundation
import MeshCompute
import MeshCore

/// `meshwork train DATA.csv`: train and evaluate a classifier on a CSV file without a mesh, so a
/// user can try a dataset before writing a scenario.
///
/// Stratified 80/20 split keyed by `--seed`, features standardized on the training part, a
/// progress line per epoch on stderr, a summary on stdout (with `--json`, its last line is one
/// JSON object). Bad input exits with status 2 and one line naming the file, line and column.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train and evaluate a classifier on a CSV file (no mesh needed)."
    )

    @Argument(help: "A CSV file: a header row, numeric feature columns and an integer label column.")
    var data: String

    @Option(help: "softmax, mlp:WIDTH or mlp:WIDTH,WIDTH,… (ReLU hidden layers).")
    var model: String = "mlp:64"

    @Option(help: "Passes over the training rows.")
    var epochs: Int = 60

    @Option(help: "Keys the split, the initialization and the shuffling.")
    var seed: UInt64 = 0

    @Option(help: "Rows per gradient step.")
    var batch: Int = 32

    @Option(help: "Learning rate.")
    var lr: Float = 1e-3

    @Option(help: "L2 penalty on the weights.")
    var l2: Float = 1e-4

    @Option(help: "adam, or sgd (momentum 0.9).")
    var optimizer: String = "adam"

    @Option(help: "The header name of the label column.")
    var label: String = "label"

    @Flag(help: "Also quantize to int8 and score the int8 path.")
    var quantize = false

    @Option(help: "Write the trained fp32 weights here (and the int8 ones to PATH.int8 with --quantize).")
    var output: String?

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    func run() async throws {
        BLASKernelRelaunch.relaunchIfNeeded()
        do {
            try await self.train()
        } catch let error as DatasetError {
            throw Self.fail(error.description)
        } catch let error as ComputeError {
            throw Self.fail("\(self.data): \(error.description)")
        } catch let error as InputError {
            throw Self.fail(error.message)
        }
    }

    /// A bad-input message already naming its file and place.
    private struct InputError: Error {
        var message: String
    }

    private static func fail(_ message: String) -> ExitCode {
        BLASKernelRelaunch.note("meshwork train: error: \(message)\n")
        return ExitCode(2)
    }

    private func train() async throws {
        let architecture = try MLP.Architecture(parsing: self.model)
        let optimizer: Optimizer
        switch self.optimizer.lowercased() {
        case "adam": optimizer = .adam()
        case "sgd": optimizer = .sgd(momentum: 0.9)
        default: throw InputError(message: "--optimizer \(self.optimizer): expected adam or sgd")
        }
        let configuration = TrainingConfiguration(
            epochs: self.epochs,
            batchSize: self.batch,
            learningRate: self.lr,
            l2: self.l2,
            optimizer: optimizer,
            seed: self.seed
        )
        try configuration.validate()

        let text: String
        do {
            text = try String(contentsOfFile: self.data, encoding: .utf8)
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: self.data) ? "cannot be read as UTF-8 text" : "no such file"
            throw InputError(message: "\(self.data): \(reason)")
        }
        let table = try CSVTable.parse(text: text, source: self.data, labelColumn: self.label)
        var rng = SeededRandom(seed: self.seed, key: "train/split")
        let split = try StratifiedSplit(labels: table.labels, testFraction: 0.2, source: self.data, using: &rng)
        let trainTable = table.selecting(rows: split.train)
        let scaler = try Standardizer(fitting: trainTable)
        let classes = table.classLabels
        let train = try LabeledData(
            table: scaler.transform(trainTable),
            classLabels: classes,
            subject: "\(self.data) training rows"
        )
        let test = try LabeledData(
            table: scaler.transform(table.selecting(rows: split.test)),
            classLabels: classes,
            subject: "\(self.data) test rows"
        )
        let initial = MLP(architecture: architecture, inputs: table.featureCount, classLabels: classes, seed: self.seed)
        BLASKernelRelaunch.note(
            "meshwork train: \(table.rowCount) rows (\(train.count) train, \(test.count) test), "
                + "\(table.featureCount) features, \(classes.count) classes; model \(architecture) "
                + "(\(initial.parameterCount) parameters)\n"
        )

        let executor = ComputeExecutor(name: "meshwork.train", blasThreads: 1)
        defer { executor.shutdown() }
        let epochs = self.epochs
        let quantize = self.quantize
        let outcome = try await executor.run { () throws(ComputeError) -> Outcome in
            let result = try Trainer.train(initial, on: train, configuration: configuration, validation: test) {
                report in
                BLASKernelRelaunch.note(Self.progressLine(report, of: epochs))
            }
            return try Outcome(result: result, test: test, quantize: quantize)
        }
        if let output = self.output {
            try Self.write(WeightsFile.encode(outcome.model), to: output)
            if let int8 = outcome.int8 { try Self.write(WeightsFile.encode(int8.model), to: output + ".int8") }
        }
        self.printSummary(outcome, table: table, train: train, test: test)
    }

    private static func progressLine(_ report: EpochReport, of epochs: Int) -> String {
        let width = String(epochs).count
        let epoch = String(report.epoch).leftPadded(to: width)
        var line =
            "epoch \(epoch)/\(epochs)  loss " + String(format: "%.4f", report.trainLoss)
            + "  train " + String(format: "%.2f%%", report.trainAccuracy * 100)
        if let accuracy = report.validationAccuracy {
            line += "  test " + String(format: "%.2f%%", accuracy * 100)
        }
        return line + "  " + String(format: "%.2f ms", report.milliseconds) + "\n"
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw InputError(message: "\(path): cannot write the weights (\(error.localizedDescription))")
        }
    }

    private func printSummary(_ outcome: Outcome, table: CSVTable, train: LabeledData, test: LabeledData) {
        let fp32 = outcome.report
        func percent(_ value: Double) -> String { String(format: "%.2f %%", value * 100) }
        print(
            "dataset: \(self.data) (\(table.rowCount) rows, \(table.featureCount) features, \(fp32.classLabels.count) classes)"
        )
        print("model: \(outcome.model.architecture), \(outcome.model.parameterCount) parameters, seed \(self.seed)")
        print("blas: \(BLAS.coreName), \(BLAS.threadCount) thread")
        print(
            "epoch time (epochs 2…\(self.epochs)): mean " + String(format: "%.3f ms", outcome.epochMilliseconds)
                + ", median " + String(format: "%.3f ms", outcome.medianEpochMilliseconds)
                + ", CPU " + String(format: "%.3f ms", outcome.epochCPUMilliseconds)
        )
        print("test accuracy: \(percent(fp32.accuracy)), macro-F1 \(percent(fp32.macroF1))")
        print(
            "test NLL " + String(format: "%.4f", fp32.negativeLogLikelihood) + ", ECE (15 bins) "
                + String(format: "%.4f", fp32.expectedCalibrationError)
        )
        print(
            "worst classes: " + fp32.worstClasses.map { "\($0.label) (F1 \(percent($0.f1)))" }.joined(separator: ", ")
        )
        if !fp32.mostConfused.isEmpty {
            print(
                "most confused: "
                    + fp32.mostConfused.map { "\($0.actual)→\($0.predicted) ×\($0.count)" }.joined(separator: ", ")
            )
        }
        print("fp32 weights: \(outcome.fp32Bytes) bytes")
        if let int8 = outcome.int8 {
            print(
                "int8 test accuracy: \(percent(int8.report.accuracy)), macro-F1 \(percent(int8.report.macroF1)), "
                    + "top-1 agreement with fp32 \(percent(int8.agreement))"
            )
            print(
                "int8 weights: \(int8.bytes) bytes ("
                    + String(format: "%.2f×", Double(outcome.fp32Bytes) / Double(int8.bytes))
                    + " smaller)"
            )
            print(
                "single-row latency: fp32 " + String(format: "%.2f µs", outcome.fp32RowMicroseconds)
                    + ", int8 " + String(format: "%.2f µs", int8.rowMicroseconds)
            )
        }
        guard self.json else { return }
        var object: [String: ComputeJSON] = [
            "dataset": .string(self.data),
            "rows": .number(Double(table.rowCount)),
            "train_rows": .number(Double(train.count)),
            "test_rows": .number(Double(test.count)),
            "features": .number(Double(table.featureCount)),
            "classes": .number(Double(fp32.classLabels.count)),
            "model": .string(outcome.model.architecture.description),
            "parameters": .number(Double(outcome.model.parameterCount)),
            "epochs": .number(Double(self.epochs)),
            "seed": .number(Double(self.seed)),
            "batch": .number(Double(self.batch)),
            "lr": .number(ComputeJSON.rounded(Double(self.lr), 8)),
            "blas_core": .string(BLAS.coreName),
            "blas_threads": .number(Double(BLAS.threadCount)),
            "epoch_ms": .number(ComputeJSON.rounded(outcome.epochMilliseconds, 4)),
            "epoch_ms_median": .number(ComputeJSON.rounded(outcome.medianEpochMilliseconds, 4)),
            "epoch_cpu_ms": .number(ComputeJSON.rounded(outcome.epochCPUMilliseconds, 4)),
            "train_seconds": .number(ComputeJSON.rounded(outcome.trainSeconds, 4)),
            "test_accuracy": .number(ComputeJSON.rounded(fp32.accuracy, 6)),
            "test_macro_f1": .number(ComputeJSON.rounded(fp32.macroF1, 6)),
            "test_nll": .number(ComputeJSON.rounded(fp32.negativeLogLikelihood, 6)),
            "test_ece": .number(ComputeJSON.rounded(fp32.expectedCalibrationError, 6)),
            "worst_classes": .array(fp32.worstClasses.map { .number(Double($0.label)) }),
            "most_confused": .array(
                fp32.mostConfused.map {
                    .array([.number(Double($0.actual)), .number(Double($0.predicted)), .number(Double($0.count))])
                }
            ),
            "fp32_bytes": .number(Double(outcome.fp32Bytes)),
            "fp32_row_us": .number(ComputeJSON.rounded(outcome.fp32RowMicroseconds, 3)),
            "int8_test_accuracy": .null,
            "int8_test_macro_f1": .null,
            "int8_agreement": .null,
            "int8_bytes": .null,
            "int8_row_us": .null,
        ]
        if let int8 = outcome.int8 {
            object["int8_test_accuracy"] = .number(ComputeJSON.rounded(int8.report.accuracy, 6))
            object["int8_test_macro_f1"] = .number(ComputeJSON.rounded(int8.report.macroF1, 6))
            object["int8_agreement"] = .number(ComputeJSON.rounded(int8.agreement, 6))
            object["int8_bytes"] = .number(Double(int8.bytes))
            object["int8_row_us"] = .number(ComputeJSON.rounded(int8.rowMicroseconds, 3))
        }
        print(ComputeJSON.object(object).line)
    }
}

/// What a training run produced, computed on the executor's thread.
private struct Outcome: Sendable {
    struct Int8Outcome: Sendable {
        var model: QuantizedMLP
        var report: EvaluationReport
        var agreement: Double
        var bytes: Int
        var rowMicroseconds: Double
    }

    var model: MLP
    var report: EvaluationReport
    var epochMilliseconds: Double
    var medianEpochMilliseconds: Double
    var epochCPUMilliseconds: Double
    var trainSeconds: Double
    var fp32Bytes: Int
    var fp32RowMicroseconds: Double
    var int8: Int8Outcome?

    init(result: TrainingResult, test: LabeledData, quantize: Bool) throws(ComputeError) {
        self.model = result.model
        self.epochMilliseconds = result.meanEpochMilliseconds
        self.medianEpochMilliseconds = result.medianEpochMilliseconds
        self.epochCPUMilliseconds = result.meanEpochCPUMilliseconds
        self.trainSeconds = result.epochs.reduce(0) { $0 + $1.milliseconds } / 1000
        self.report = try EvaluationReport(logits: result.model.logits(test.features), data: test)
        self.fp32Bytes = WeightsFile.encode(result.model).count
        let row = test.features.gatheringRows([0])
        self.fp32RowMicroseconds = try Self.medianMicroseconds { () throws(ComputeError) in
            _ = try result.model.logits(row)
        }
        guard quantize else { return }
        let int8 = QuantizedMLP(quantizing: result.model)
        let report = try EvaluationReport(logits: int8.logits(test.features), data: test)
        let agreement = EvaluationReport.agreement(
            try result.model.predictLabels(test.features),
            try int8.predictLabels(test.features)
        )
        self.int8 = Int8Outcome(
            model: int8,
            report: report,
            agreement: agreement,
            bytes: WeightsFile.encode(int8).count,
            rowMicroseconds: try Self.medianMicroseconds { () throws(ComputeError) in _ = try int8.logits(row) }
        )
    }

    /// The median of 501 timed calls, after 50 untimed ones.
    private static func medianMicroseconds(_ body: () throws(ComputeError) -> Void) throws(ComputeError) -> Double {
        let clock = ContinuousClock()
        for _ in 0..<50 { try body() }
        var samples: [Double] = []
        for _ in 0..<501 {
            let start = clock.now
            try body()
            let elapsed = clock.now - start
            samples.append(Double(elapsed.components.attoseconds) * 1e-12 + Double(elapsed.components.seconds) * 1e6)
        }
        return samples.sorted()[samples.count / 2]
    }
}

/// A JSON value for the commands' one-line `--json` output; keys are written sorted so the line
/// is stable from run to run.
enum ComputeJSON: Encodable {
    case number(Double)
    case string(String)
    case array([ComputeJSON])
    case object([String: ComputeJSON])
    case null

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// The value as one line of JSON.
    var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("null".utf8), as: UTF8.self)
    }

    /// `value` rounded to `digits` decimals, so the line does not carry float noise.
    static func rounded(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(width - self.count, 0)) + self
    }
}
