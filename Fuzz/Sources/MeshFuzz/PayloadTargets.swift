import MeshCore

/// The payloads that travel inside an award's input or a result's output, which a peer
/// controls as much as the envelope: compute requests and responses (docs/WIRE.md "Compute
/// protocol"), dataset blobs, the data agent's requests and answers, the serving works' messages
/// (a canonical-JSON head and binary parts) and the JSON records of the lifecycle.
enum PayloadTargets {
    static let hash = BlobHash(of: Array("a dataset blob".utf8))
    static let weights = SerializedWeights(Array("MWNN not really a weights file".utf8))
    static let frame = TensorFrame(rows: [[1, -2.5, 0], [.nan, .infinity, -0.0]])
    static let rows = LabeledRows(features: TensorFrame(rows: [[0.5, 1], [2, -3], [4, 5]]), labels: [1, -7, 2_000_000])
    static let policy = DataPolicy(piiAllowed: false, licences: ["CC-BY-4.0", "CC0-1.0"], regions: ["eu"])
    static let source = CatalogSource(
        id: "digits", kind: .csv(path: "scenarios/data/digits.csv"), licence: "CC-BY-4.0", region: "eu", classes: [0, 1])

    static let requests: [ComputeRequest] = [
        .train(TrainRequest(architecture: "mlp:64", classLabels: [0, 1, 2], hyperparameters: Hyperparameters(), data: .inline(rows))),
        .train(
            TrainRequest(
                architecture: "softmax", classLabels: [5, -1],
                hyperparameters: Hyperparameters(
                    epochs: 9, batchSize: 7, learningRate: 0.5, l2: 0, optimizer: .sgd(momentum: 0.25), trainable: .head, seed: .max),
                data: .blob(hash), validation: .inline(rows))),
        .fineTune(
            FineTuneRequest(
                base: .inline(weights), head: .replace(classLabels: [5, 6, 7]), hyperparameters: Hyperparameters(seed: 3),
                data: .inline(rows), validation: .blob(hash))),
        .quantize(QuantizeRequest(model: .blob(hash))),
        .evaluate(EvaluateRequest(model: .inline(weights), data: .inline(rows))),
        .predict(PredictRequest(model: .inline(weights), rows: .inline(frame), output: .logits)),
        .predict(PredictRequest(model: .blob(hash), rows: .blob(hash), output: .labels)),
    ]

    static let evaluation = ModelEvaluation(
        count: 5, classLabels: [3, 9], accuracy: 0.6, macroF1: 0.55, negativeLogLikelihood: 0.9, expectedCalibrationError: 0.125,
        calibrationBins: 15, confusionMatrix: [[2, 1], [1, 1]],
        classes: [
            .init(label: 3, precision: 2.0 / 3, recall: 2.0 / 3, f1: 2.0 / 3, support: 3),
            .init(label: 9, precision: 0.5, recall: 0.5, f1: 0.5, support: 2),
        ],
        worstClasses: [9, 3], mostConfused: [.init(actual: 3, predicted: 9, count: 1), .init(actual: 9, predicted: 3, count: 1)])

    static let responses: [ComputeResponse] = [
        .trained(TrainedModel(weights: weights, epochs: [.init(trainLoss: 2.3, trainAccuracy: 0.1), .init(trainLoss: 1.5, trainAccuracy: 0.4)])),
        .fineTuned(
            TrainedModel(weights: weights, epochs: [.init(trainLoss: 0.5, trainAccuracy: 0.9, validationAccuracy: 0.85, validationLoss: 0.6)])),
        .quantized(weights),
        .evaluated(evaluation),
        .predicted(.logits(frame)),
        .predicted(.labels([3, 9, -1])),
        .predicted(.probabilities(TensorFrame(rows: [[0.25, 0.75]]))),
    ]

    static var dataset: PreparedDataset {
        let profile = DatasetProfile(
            sourceID: "digits", rowsRead: 5, extraRows: 0, rowsKept: 5,
            classCounts: [.init(label: 0, train: 1, validation: 1, test: 0), .init(label: 1, train: 2, validation: 0, test: 1)],
            missingImputed: 1, duplicatesRemoved: 0, outliersClipped: 2, augmentedRows: 0, featureCount: 2,
            features: [.init(name: "a", mean: 0.5, std: 1.25, min: -3, max: 5), .init(name: "b", mean: 1, std: 2, min: 0, max: 4)])
        return PreparedDataset(
            train: LabeledRows(features: rows.features, labels: [1, 0, 1]),
            validation: LabeledRows(features: TensorFrame(rows: [[1, 2]]), labels: [0]),
            test: LabeledRows(features: TensorFrame(rows: 0, columns: 2, values: []), labels: []), classLabels: [0, 1],
            standardizer: Standardizer(mean: [0.5, 1], std: [1.25, 2]), profile: profile)
    }

    static var deploy: DeployRequest {
        DeployRequest(
            name: "digits", version: 2, alias: "staging", precision: "int8", standardizer: Standardizer(mean: [0.5, 1], std: [1, 2]),
            dataset: "sha256:ab", fp32: weights, int8: SerializedWeights(Array("MWNN int8".utf8)))
    }

    static let targets: [FuzzTarget] = [
        .exact("compute-request", decode: { bytes throws(WireError) in try ComputeRequest(decoding: bytes) }, encode: { $0.encoded() },
               seeds: { requests.map { $0.encoded() } }),
        .exact("compute-response", decode: { bytes throws(WireError) in try ComputeResponse(decoding: bytes) }, encode: { $0.encoded() },
               seeds: { responses.map { $0.encoded() } }),
        .exact("dataset-blob", decode: { bytes throws(WireError) in try LabeledRows(decodingBlob: bytes) }, encode: { $0.encodedBlob() },
               seeds: { [rows.encodedBlob(), LabeledRows(features: frame, labels: [0, 1]).encodedBlob()] }),
        .exact("drift-reference", decode: { bytes throws(WireError) in try DriftReference(decoding: bytes) }, encode: { $0.encoded() },
               seeds: { [DriftReference(rows: TensorFrame(rows: [[1, 2], [3, 4], [5, 6], [0, 1]]), seed: 1).encoded()] }),
        .exact("discovery-request", decode: { bytes throws(WireError) in try DiscoveryRequest(decoding: bytes) }, encode: { $0.encoded() },
               seeds: {
                   [DiscoveryRequest(
                       useCaseID: "uc-1", policy: policy,
                       catalog: [
                           source,
                           CatalogSource(
                               id: "people-pii", kind: .csv(path: "scenarios/data/pii-people.csv"), licence: "proprietary", pii: true,
                               piiColumns: ["name_code"], region: "eu"),
                       ]).encoded()]
               }),
        .exact("discovery-report", decode: { bytes throws(WireError) in try DiscoveryReport(decoding: bytes) }, encode: { $0.encoded() },
               seeds: {
                   [DiscoveryReport(
                       useCaseID: "uc-1", accepted: ["digits"],
                       rejected: [.init(sourceID: "people-pii", rule: .piiNotAllowed, detail: "pii columns name_code")]).encoded()]
               }),
        .exact("prepare-request", decode: { bytes throws(WireError) in try PrepareRequest(decoding: bytes) }, encode: { $0.encoded() },
               seeds: {
                   [PrepareRequest(useCaseID: "uc-1", source: source, seed: 7).encoded(),
                    PrepareRequest(
                        useCaseID: "uc-1", source: source, seed: 9, augmentation: AugmentationOptions(copies: 2, noiseSigma: 0.1),
                        extraRows: rows).encoded()]
               }),
        .exact("prepared-dataset", decode: { bytes throws(WireError) in try PreparedDataset(decoding: bytes) }, encode: { $0.encoded() },
               seeds: { [dataset.encoded()] }),
        .stable("deploy-request", decode: { bytes throws(WireError) in try DeployRequest(decoding: bytes) }, encode: { $0.encoded() },
                seeds: { [deploy.encoded()] }),
        .stable("serving-test-request", decode: { bytes throws(WireError) in try ServingTestRequest(decoding: bytes) },
                encode: { $0.encoded() },
                seeds: { [ServingTestRequest(name: "digits", version: 1, connections: 2, milliseconds: 100, rows: rows, deploy: deploy).encoded()] }),
        .stable("promote-request", decode: { bytes throws(WireError) in try PromoteRequest(decoding: bytes) }, encode: { $0.encoded() },
                seeds: {
                    [PromoteRequest(name: "digits", version: 1, alias: "production").encoded(),
                     PromoteRequest(name: "digits", version: 2, alias: "production", deploy: deploy).encoded()]
                }),
        .stable("window-request", decode: { bytes throws(WireError) in try WindowRequest(decoding: bytes) }, encode: { $0.encoded() },
                seeds: {
                    [WindowRequest(
                        useCase: "uc", name: "digits", version: 1, window: 0, rule: DriftRule(), rows: rows, heldOutFrom: 2,
                        reference: DriftReference(rows: rows.features, seed: 1)).encoded()]
                }),
        FuzzTarget(name: "canonical-json", run: JSONRecords.run, seeds: JSONRecords.seeds),
    ]
}

/// ``CanonicalJSON`` as the lifecycle reads it from results and task inputs: one input is tried
/// as each record type, and every type it decodes as must re-encode stably.
enum JSONRecords {
    private static func check<T: Codable>(_ type: T.Type, _ bytes: [UInt8]) -> Bool {
        guard let value = try? CanonicalJSON.decode(T.self, from: bytes, what: "fuzz") else { return false }
        let first = CanonicalJSON.encode(value)
        let second: [UInt8]
        do {
            second = CanonicalJSON.encode(try CanonicalJSON.decode(T.self, from: first, what: "fuzz"))
        } catch {
            fatalError("canonical-json: \(T.self) decoded from \(hex(bytes)) but its encoding \(hex(first)) is refused: \(error)")
        }
        guard first == second else {
            fatalError("canonical-json: \(T.self) encoding is not stable: \(hex(first)) then \(hex(second))")
        }
        return true
    }

    @Sendable static func run(_ bytes: [UInt8]) -> Bool {
        // Not short-circuited: every type sees every input.
        let results = [
            check(UseCaseSpec.self, bytes), check(GateRequest.self, bytes), check(GateDecision.self, bytes),
            check(DeploymentReport.self, bytes), check(WindowReport.self, bytes), check(AlertNotification.self, bytes),
            check([String: String].self, bytes),
        ]
        return results.contains(true)
    }

    @Sendable static func seeds() -> [[UInt8]] {
        [
            CanonicalJSON.encode(
                UseCaseSpec(
                    id: "digits", title: "Digits", objective: .init(metric: "accuracy", target: 0.9),
                    constraints: .init(p99LatencyMilliseconds: 50, maxModelBytes: 1 << 20, computeBudgetGFLOP: 10),
                    dataPolicy: PayloadTargets.policy, sources: ["digits"])),
            CanonicalJSON.encode(
                GateRequest(
                    useCase: "digits", gate: .promotion, evidence: ["accuracy 0.95"], recommendation: true, seed: 7,
                    policy: HumanPolicy(neverAnswer: ["infeasible"]))),
            CanonicalJSON.encode(GateDecision(approved: false, who: "scripted-human", reason: "no", escalatedFrom: "on-call")),
            CanonicalJSON.encode(DeploymentReport(name: "digits", version: 1, alias: "staging", precision: "int8")),
            CanonicalJSON.encode(["alertname": "drift", "status": "firing"]),
        ]
    }
}
