import MeshAgents
import MeshCompute
import MeshCore
import Testing

/// Bad input gets a typed failure naming what and where, and the node keeps serving.
@Suite("Compute node bad input")
struct BadInputTests {
    let node = sharedNode

    /// A tiny valid dataset: 4 rows of 3 features, classes 0 and 1.
    static let tiny = LabeledRows(
        features: TensorFrame(rows: [[0, 1, 2], [1, 0, 1], [2, 2, 0], [0, 0, 1]]), labels: [0, 1, 0, 1])

    static func train(_ change: (inout TrainRequest) -> Void) -> ComputeRequest {
        var request = TrainRequest(
            architecture: "mlp:4", classLabels: [0, 1], hyperparameters: Hyperparameters(epochs: 2, batchSize: 2),
            data: .inline(tiny))
        change(&request)
        return .train(request)
    }

    static func rows(_ change: (inout [Float], inout [Int]) -> Void, columns: Int = 3) -> LabeledRows {
        var values = tiny.features.values
        var labels = tiny.labels
        change(&values, &labels)
        return LabeledRows(features: TensorFrame(rows: values.count / columns, columns: columns, values: values), labels: labels)
    }

    static var weights: SerializedWeights { NodeFixtures.directWeights }

    /// The fp32 weights file with one weight replaced and the checksum recomputed.
    static func weights(withWeight value: Float, at index: Int) -> SerializedWeights {
        var bytes = Array(NodeFixtures.directWeights.bytes.dropLast(32))
        let offset = 16 + 4 * 3 + 4 * 10 + 4 * index  // header, widths 64-32-10, labels, then layer 0's weights
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
        return SerializedWeights(bytes + BlobHash(of: bytes).bytes)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var request: ComputeRequest
        var code: ComputeFailure.Code
        var subject: String? = nil
        var location: String? = nil
        var testDescription: String { self.name }
    }

    static let cases: [Case] = {
        let digits = NodeFixtures.testRows
        let evaluate = { (weights: SerializedWeights, rows: LabeledRows) in
            ComputeRequest.evaluate(EvaluateRequest(model: .inline(weights), data: .inline(rows)))
        }
        let predict = { (weights: SerializedWeights, rows: TensorFrame) in
            ComputeRequest.predict(PredictRequest(model: .inline(weights), rows: .inline(rows), output: .labels))
        }
        let int8 = SerializedWeights(WeightsFile.encode(NodeFixtures.directInt8))
        var flipped = weights.bytes
        flipped[100] ^= 0x40
        let narrow = TensorFrame(rows: 2, columns: 63, values: [Float](repeating: 0, count: 126))
        return [
            Case(name: "NaN feature", request: train { $0.data = .inline(rows { values, _ in values[7] = .nan }) },
                 code: .nonFinite, subject: "training data", location: "row 2, column 1"),
            Case(name: "infinite validation feature",
                 request: train { $0.validation = .inline(rows { values, _ in values[0] = -.infinity }) },
                 code: .nonFinite, subject: "validation data", location: "row 0, column 0"),
            Case(name: "labels and rows differ", request: train { $0.data = .inline(rows { _, labels in labels.removeLast() }) },
                 code: .shapeMismatch, subject: "training data"),
            Case(name: "no rows", request: train { $0.data = .inline(LabeledRows(features: TensorFrame(rows: 0, columns: 3, values: []), labels: [])) },
                 code: .emptyDataset, subject: "training data"),
            Case(name: "no features", request: train { $0.data = .inline(LabeledRows(features: TensorFrame(rows: 2, columns: 0, values: []), labels: [0, 1])) },
                 code: .shapeMismatch, subject: "training data"),
            Case(name: "label outside the classes", request: train { $0.data = .inline(rows { _, labels in labels[2] = 7 }) },
                 code: .labelOutOfRange, subject: "training data", location: "row 2"),
            Case(name: "no classes", request: train { $0.classLabels = [] }, code: .invalidArgument),
            Case(name: "repeated classes", request: train { $0.classLabels = [0, 1, 1] }, code: .invalidArgument),
            Case(name: "unknown architecture", request: train { $0.architecture = "cnn:3" }, code: .invalidArgument),
            Case(name: "bad width", request: train { $0.architecture = "mlp:0" }, code: .invalidArgument),
            Case(name: "too many layers", request: train { $0.architecture = "mlp:" + Array(repeating: "2", count: 70).joined(separator: ",") },
                 code: .invalidArgument),
            Case(name: "model too large", request: train { $0.architecture = "mlp:65536,64" }, code: .invalidArgument),
            Case(name: "zero batch", request: train { $0.hyperparameters.batchSize = 0 }, code: .invalidArgument,
                 subject: "training configuration"),
            Case(name: "negative rate", request: train { $0.hyperparameters.learningRate = -1 }, code: .invalidArgument),
            Case(name: "NaN L2", request: train { $0.hyperparameters.l2 = .nan }, code: .invalidArgument),
            Case(name: "Adam beta 1", request: train { $0.hyperparameters.optimizer = .adam(beta1: 1) }, code: .invalidArgument),
            Case(name: "diverging", request: train {
                $0.hyperparameters.learningRate = 1e30
                $0.hyperparameters.optimizer = .sgd(momentum: 0)
                $0.data = .inline(rows { values, _ in values = values.map { $0 * 1e15 } })
            }, code: .nonFinite),
            Case(name: "truncated weights", request: evaluate(SerializedWeights(Array(weights.bytes.prefix(5_000))), digits),
                 code: .truncatedFile, subject: "weights file model"),
            Case(name: "empty weights", request: evaluate(SerializedWeights([]), digits), code: .truncatedFile),
            Case(name: "corrupt weights", request: evaluate(SerializedWeights(flipped), digits), code: .checksumMismatch),
            Case(name: "not a weights file", request: evaluate(SerializedWeights([UInt8](repeating: 7, count: 100)), digits),
                 code: .unsupportedFormat, location: "byte 0"),
            Case(name: "NaN weight under a valid checksum", request: evaluate(weights(withWeight: .nan, at: 5), digits),
                 code: .nonFinite),
            Case(name: "evaluation rows too narrow", request: evaluate(weights, LabeledRows(features: narrow, labels: [0, 1])),
                 code: .shapeMismatch, subject: "evaluation data"),
            Case(name: "evaluation label outside the model's classes",
                 request: evaluate(weights, LabeledRows(features: TensorFrame(rows: 1, columns: 64, values: .init(repeating: 0, count: 64)), labels: [10])),
                 code: .labelOutOfRange, location: "row 0"),
            Case(name: "prediction rows too narrow", request: predict(int8, narrow), code: .shapeMismatch, subject: "prediction rows"),
            Case(name: "no prediction rows", request: predict(weights, TensorFrame(rows: 0, columns: 64, values: [])),
                 code: .emptyDataset),
            Case(name: "infinite prediction row",
                 request: predict(weights, TensorFrame(rows: 2, columns: 64, values: (0..<128).map { $0 == 70 ? .infinity : 0 })),
                 code: .nonFinite, location: "row 1, column 6"),
            Case(name: "quantizing an int8 model", request: .quantize(QuantizeRequest(model: .inline(int8))), code: .invalidArgument),
            Case(name: "fine-tuning an int8 model",
                 request: .fineTune(FineTuneRequest(base: .inline(int8), head: .keep, hyperparameters: Hyperparameters(), data: .inline(digits))),
                 code: .invalidArgument),
            Case(name: "fine-tuning on rows of another width",
                 request: .fineTune(FineTuneRequest(base: .inline(weights), head: .replace(classLabels: [0, 1]), hyperparameters: Hyperparameters(), data: .inline(tiny))),
                 code: .shapeMismatch, subject: "training data"),
            Case(name: "kept head, foreign label",
                 request: .fineTune(FineTuneRequest(base: .inline(weights), head: .keep, hyperparameters: Hyperparameters(),
                     data: .inline(LabeledRows(features: TensorFrame(rows: 1, columns: 64, values: .init(repeating: 0, count: 64)), labels: [42])))),
                 code: .labelOutOfRange, location: "row 0"),
            Case(name: "repeated new head labels",
                 request: .fineTune(FineTuneRequest(base: .inline(weights), head: .replace(classLabels: [3, 3]), hyperparameters: Hyperparameters(), data: .inline(digits))),
                 code: .invalidArgument),
        ]
    }()

    @Test(arguments: cases)
    func isRefusedByNameAndTheNodeKeepsServing(_ badCase: Case) async throws {
        do {
            let response = try await self.node.perform(badCase.request)
            Issue.record("\(badCase.name) was answered: \(response.operation)")
        } catch {
            #expect(error.code == badCase.code, "\(error)")
            if let subject = badCase.subject { #expect(error.subject == subject, "\(error)") }
            if let location = badCase.location { #expect(error.location == location, "\(error)") }
            #expect(!error.reason.isEmpty)
        }
        // The next good request works.
        let good = try await self.node.perform(
            .predict(PredictRequest(model: .inline(Self.weights), rows: .inline(NodeFixtures.testRows.features), output: .labels)))
        guard case .predicted(.labels(let labels)) = good else {
            Issue.record("expected labels")
            return
        }
        #expect(labels.count == 359)
    }

    @Test func aTinyTrainingRequestStillWorksAfterFailures() async throws {
        for bad in Self.cases.prefix(6) { _ = try? await self.node.perform(bad.request) }
        let response = try await self.node.perform(Self.train { _ in })
        guard case .trained(let trained) = response else {
            Issue.record("expected a trained model")
            return
        }
        #expect(trained.epochs.count == 2)
    }
}

/// The worker between the agent and the port: bytes in, bytes or a reason out.
@Suite("Compute worker")
struct ComputeWorkerTests {
    let worker = CompositeWorker([RelayWorker(), ComputeWorker(port: sharedNode)])

    func assignment(_ work: String, _ input: [UInt8]) -> Assignment {
        Assignment(task: TaskID(unchecked: "compute/test"), work: work, input: input, simTime: .zero)
    }

    @Test func aGoodRequestIsAnsweredWithTheEncodedResponse() async throws {
        let request = ComputeRequest.quantize(QuantizeRequest(model: .inline(NodeFixtures.directWeights)))
        let outcome = await self.worker.perform(self.assignment(request.work, request.encoded()))
        let expected = try await sharedNode.perform(request).encoded()
        #expect(outcome == .done(expected))
    }

    @Test func badRequestsFailWithTheirReason() async {
        let garbage = await self.worker.perform(self.assignment("compute.train", [1, 2, 3]))
        guard case .failed(let reason) = garbage else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason.hasPrefix("malformedRequest: request: truncated: request.magic"))
        #expect(ComputeFailure(reportedReason: reason).code == .malformedRequest)

        let quantize = ComputeRequest.quantize(QuantizeRequest(model: .inline(SerializedWeights([1, 2]))))
        let mismatch = await self.worker.perform(self.assignment("compute.evaluate", quantize.encoded()))
        #expect(mismatch == .failed("malformedRequest: request: the task's work is compute.evaluate but the request is compute.quantize"))

        let refused = await self.worker.perform(self.assignment(quantize.work, quantize.encoded()))
        guard case .failed(let text) = refused else {
            Issue.record("expected a failure")
            return
        }
        #expect(ComputeFailure(reportedReason: text).code == .truncatedFile)
    }

    @Test func theCompositeDoesTheRelayAndTheComputeWorks() async {
        #expect(self.worker.canDo("relay.hash"))
        for operation in ComputeOperation.allCases { #expect(self.worker.canDo(operation.work)) }
        #expect(!self.worker.canDo("data.collect"))
        let task = TaskID(unchecked: "relay/000001/0")
        let relay = await self.worker.perform(Assignment(task: task, work: "relay.hash", input: [1, 2], simTime: .zero))
        #expect(relay == .done(RelayWork.output(input: [1, 2], task: task)))
        let nobody = await self.worker.perform(self.assignment("data.collect", []))
        #expect(nobody == .failed("no worker here does data.collect"))
    }
}
