import MeshCompute
import MeshCore
import Synchronization
import Testing

/// The port on real data: every operation gives what MeshCompute gives when called directly,
/// and the same request gives the same bytes twice.
@Suite("Compute node")
struct ComputeNodeTests {
    let node = sharedNode

    @Test func trainingMatchesMeshComputeBitForBitAndRepeats() async throws {
        let first = try await self.node.perform(.train(NodeFixtures.trainRequest))
        guard case .trained(let trained) = first else {
            Issue.record("expected a trained model, got \(first.operation)")
            return
        }
        #expect(trained.weights == NodeFixtures.directWeights)
        #expect(trained.epochs.count == 3)
        #expect(trained.epochs.allSatisfy { $0.validationAccuracy == nil })
        #expect(trained.epochs.last!.trainAccuracy > 0.7)
        let second = try await self.node.perform(.train(NodeFixtures.trainRequest))
        #expect(second.encoded() == first.encoded())
    }

    @Test func validationRowsAreScoredEveryEpochAsTheTrainerDoes() async throws {
        var request = NodeFixtures.trainRequest
        request.architecture = "softmax"
        request.hyperparameters = Hyperparameters(epochs: 2, optimizer: .sgd(momentum: 0.5), seed: 3)
        request.validation = .inline(NodeFixtures.testRows)
        guard case .trained(let trained) = try await self.node.perform(.train(request)) else {
            Issue.record("expected a trained model")
            return
        }
        let model = MLP(architecture: .softmax, inputs: 64, classLabels: NodeFixtures.classLabels, seed: 3)
        let direct = try Trainer.train(
            model, on: NodeFixtures.data(NodeFixtures.digits.train),
            configuration: NodeFixtures.configuration(request.hyperparameters),
            validation: NodeFixtures.data(NodeFixtures.digits.test))
        #expect(trained.weights.bytes == WeightsFile.encode(direct.model))
        #expect(trained.epochs.map(\.trainLoss) == direct.epochs.map(\.trainLoss))
        #expect(trained.epochs.map(\.validationAccuracy) == direct.epochs.map(\.validationAccuracy))
        #expect(trained.epochs.map(\.validationLoss) == direct.epochs.map(\.validationLoss))
    }

    @Test func evaluationMatchesTheReportForFP32AndInt8() async throws {
        let test = NodeFixtures.data(NodeFixtures.digits.test)
        let int8Weights = SerializedWeights(WeightsFile.encode(NodeFixtures.directInt8))
        for (weights, logits) in [
            (NodeFixtures.directWeights, try NodeFixtures.directModel.logits(test.features)),
            (int8Weights, try NodeFixtures.directInt8.logits(test.features)),
        ] {
            let response = try await self.node.perform(
                .evaluate(EvaluateRequest(model: .inline(weights), data: .inline(NodeFixtures.testRows))))
            guard case .evaluated(let evaluation) = response else {
                Issue.record("expected an evaluation")
                return
            }
            let report = try EvaluationReport(logits: logits, data: test)
            #expect(evaluation.count == 359)
            #expect(evaluation.classLabels == report.classLabels)
            #expect(evaluation.accuracy == report.accuracy)
            #expect(evaluation.macroF1 == report.macroF1)
            #expect(evaluation.negativeLogLikelihood == report.negativeLogLikelihood)
            #expect(evaluation.expectedCalibrationError == report.expectedCalibrationError)
            #expect(evaluation.calibrationBins == 15)
            #expect(evaluation.confusionMatrix == report.confusionMatrix)
            #expect(evaluation.classes.map(\.f1) == report.classes.map(\.f1))
            #expect(evaluation.classes.map(\.support) == report.classes.map(\.support))
            #expect(evaluation.worstClasses == report.worstClasses.map(\.label))
            #expect(evaluation.mostConfused.map(\.count) == report.mostConfused.map(\.count))
            #expect(evaluation.mostConfused.map(\.actual) == report.mostConfused.map(\.actual))
            #expect(try ComputeResponse(decoding: response.encoded()) == response)
        }
    }

    @Test func quantizationGivesMeshComputesInt8File() async throws {
        let response = try await self.node.perform(.quantize(QuantizeRequest(model: .inline(NodeFixtures.directWeights))))
        #expect(response == .quantized(SerializedWeights(WeightsFile.encode(NodeFixtures.directInt8))))
        guard case .quantized(let int8) = response, case .int8 = try WeightsFile.decode(int8.bytes, source: "test") else {
            Issue.record("expected an int8 weights file")
            return
        }
        #expect(Double(NodeFixtures.directWeights.bytes.count) / Double(int8.bytes.count) > 3)
    }

    @Test func predictionsMatchTheModelsOwn() async throws {
        let rows = NodeFixtures.testRows.features
        let matrix = try Matrix(rows: rows.rows, columns: rows.columns, values: rows.values)
        let logits = try NodeFixtures.directModel.logits(matrix)
        func predict(_ output: PredictRequest.Output, _ weights: SerializedWeights = NodeFixtures.directWeights)
            async throws -> Prediction
        {
            let response = try await self.node.perform(
                .predict(PredictRequest(model: .inline(weights), rows: .inline(rows), output: output)))
            guard case .predicted(let prediction) = response else { throw ComputeFailure(.unknown, "test", "not a prediction") }
            return prediction
        }
        #expect(try await predict(.logits) == .logits(TensorFrame(rows: 359, columns: 10, values: logits.values)))
        #expect(try await predict(.labels) == .labels(try NodeFixtures.directModel.predictLabels(matrix)))
        let probabilities = logits.softmaxPerRow()
        #expect(
            try await predict(.probabilities)
                == .probabilities(TensorFrame(rows: 359, columns: 10, values: probabilities.values)))
        let int8 = SerializedWeights(WeightsFile.encode(NodeFixtures.directInt8))
        #expect(try await predict(.labels, int8) == .labels(try NodeFixtures.directInt8.predictLabels(matrix)))
    }

    @Test(arguments: [Hyperparameters.Layers.all, .head])
    func fineTuningWithANewHeadMatchesMeshCompute(layers: Hyperparameters.Layers) async throws {
        // Pretrained on all ten digits; fine-tuned for 5-9 on a few of their rows.
        let newLabels = [5, 6, 7, 8, 9]
        let rows = NodeFixtures.subset(NodeFixtures.digits.train, labels: Set(newLabels), limit: 120)
        let hyperparameters = Hyperparameters(epochs: 4, learningRate: 3e-3, trainable: layers, seed: 11)
        let request = FineTuneRequest(
            base: .inline(NodeFixtures.directWeights), head: .replace(classLabels: newLabels),
            hyperparameters: hyperparameters, data: .inline(NodeFixtures.rows(rows)))
        let response = try await self.node.perform(.fineTune(request))
        let start = try NodeFixtures.directModel.replacingHead(classLabels: newLabels, seed: 11)
        let direct = try Trainer.train(
            start, on: NodeFixtures.data(rows, classLabels: newLabels),
            configuration: NodeFixtures.configuration(hyperparameters))
        guard case .fineTuned(let tuned) = response else {
            Issue.record("expected a fine-tuned model")
            return
        }
        #expect(tuned.weights.bytes == WeightsFile.encode(direct.model))
        guard case .fp32(let model) = try WeightsFile.decode(tuned.weights.bytes, source: "tuned") else { return }
        #expect(model.classLabels == newLabels)
        if layers == .head {
            #expect(model.layers[0] == NodeFixtures.directModel.layers[0])  // the frozen layer is untouched
        } else {
            #expect(model.layers[0] != NodeFixtures.directModel.layers[0])
        }
        #expect(try await self.node.perform(.fineTune(request)).encoded() == response.encoded())
    }

    @Test func fineTuningCanKeepTheHeadAndTrainOn() async throws {
        let hyperparameters = Hyperparameters(epochs: 1, seed: 5)
        let request = FineTuneRequest(
            base: .inline(NodeFixtures.directWeights), head: .keep, hyperparameters: hyperparameters,
            data: .inline(NodeFixtures.testRows))
        let direct = try Trainer.train(
            NodeFixtures.directModel, on: NodeFixtures.data(NodeFixtures.digits.test),
            configuration: NodeFixtures.configuration(hyperparameters))
        guard case .fineTuned(let tuned) = try await self.node.perform(.fineTune(request)) else {
            Issue.record("expected a fine-tuned model")
            return
        }
        #expect(tuned.weights.bytes == WeightsFile.encode(direct.model))
    }

    @Test func blobOperandsAreResolvedCheckedAndEqualToInline() async throws {
        let datasetBlob = NodeFixtures.testRows.encodedBlob()
        let datasetHash = BlobHash(of: datasetBlob)
        let weightsHash = BlobHash(of: NodeFixtures.directWeights.bytes)
        let liar = BlobHash(of: [1, 2, 3])
        let corrupt = [UInt8](datasetBlob.dropLast(4))
        let corruptHash = BlobHash(of: corrupt)
        let store: [BlobHash: [UInt8]] = [
            datasetHash: datasetBlob, weightsHash: NodeFixtures.directWeights.bytes, liar: [9, 9, 9],
            corruptHash: corrupt,
        ]
        let node = ComputeNode(executor: self.node.executor) { store[$0] }
        let inline = try await node.perform(
            .evaluate(EvaluateRequest(model: .inline(NodeFixtures.directWeights), data: .inline(NodeFixtures.testRows))))
        let byHash = try await node.perform(.evaluate(EvaluateRequest(model: .blob(weightsHash), data: .blob(datasetHash))))
        #expect(byHash.encoded() == inline.encoded())
        let predicted = try await node.perform(
            .predict(PredictRequest(model: .blob(weightsHash), rows: .blob(datasetHash), output: .labels)))
        let matrix = NodeFixtures.data(NodeFixtures.digits.test).features
        #expect(predicted == .predicted(.labels(try NodeFixtures.directModel.predictLabels(matrix))))

        for (hash, code) in [
            (BlobHash(of: [0]), ComputeFailure.Code.blobUnavailable), (liar, .blobUnavailable),
            (corruptHash, .unsupportedFormat),
        ] {
            let failure = await Self.failure {
                try await node.perform(.evaluate(EvaluateRequest(model: .inline(NodeFixtures.directWeights), data: .blob(hash))))
            }
            #expect(failure?.code == code, "\(hash): \(String(describing: failure))")
        }
        // A node without a store, and the inline path, refuse blobs by name.
        let storeless = await Self.failure {
            try await self.node.perform(.quantize(QuantizeRequest(model: .blob(weightsHash))))
        }
        #expect(storeless?.code == .blobUnavailable && storeless?.subject == "quantize.model")
        #expect(throws: ComputeFailure.self) {
            try ComputeNode.performInline(.quantize(QuantizeRequest(model: .blob(weightsHash))))
        }
    }

    @Test func theInlinePathGivesTheSameBytesAsTheExecutor() async throws {
        let request = ComputeRequest.evaluate(
            EvaluateRequest(model: .inline(NodeFixtures.directWeights), data: .inline(NodeFixtures.testRows)))
        let viaPort = try await self.node.perform(request)
        let inline = try await self.node.executor.run { () throws(ComputeFailure) -> ComputeResponse in
            try ComputeNode.performInline(request)
        }
        #expect(inline.encoded() == viaPort.encoded())
    }

    static func failure(_ body: () async throws -> ComputeResponse) async -> ComputeFailure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? ComputeFailure
        }
    }
}
