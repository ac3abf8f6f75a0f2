extension LifecycleWorkflow {
    /// Moves use case `index` on after `step` produced `output` at `at`.
    mutating func advance(_ index: Int, _ step: Step, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let id = self.cases[index].spec.id
        switch step {
        case .intake:
            let spec = try CanonicalJSON.decode(UseCaseSpec.self, from: output, what: "registered use case")
            self.cases[index].spec = spec
            let request = DiscoveryRequest(
                useCaseID: spec.id, policy: spec.dataPolicy, preferredSourceIDs: spec.sources, catalog: self.spec.catalog)
            return [
                .record(kind: "usecase.registered", subject: id, fields: [
                    .init("title", spec.title), .init("objective", "\(spec.objective.metric) >= \(spec.objective.target)"),
                    .init("p99_ms", String(spec.constraints.p99LatencyMilliseconds)),
                    .init("max_bytes", String(spec.constraints.maxModelBytes)),
                    .init("budget_gflop", String(spec.constraints.computeBudgetGFLOP)),
                ]),
                self.schedule(
                    index, .discover, role: .data, work: DataWork.discover.rawValue, input: request.encoded(),
                    duration: Self.minutes(1) + Self.seconds(30) * UInt64(self.spec.catalog.count), at: at),
            ]

        case .discover:
            let report = try DiscoveryReport(decoding: output)
            self.cases[index].accepted = report.accepted
            self.cases[index].rejected = report.rejected.map {
                FeasibilityRequest.RejectedSource(source: $0.sourceID, rule: $0.rule.rawValue, detail: $0.detail)
            }
            let source = report.accepted.first.flatMap { accepted in self.spec.catalog.first { $0.id == accepted } }
            self.cases[index].source = source
            let request = FeasibilityRequest(
                useCase: self.cases[index].spec, acceptedSources: report.accepted, rejectedSources: self.cases[index].rejected,
                features: source?.features, classes: source?.classes?.count, rows: source?.rows,
                zoo: self.spec.zoo, search: self.spec.search)
            return [
                .record(kind: "data.discovery", subject: id, fields: [
                    .init("accepted", report.accepted.joined(separator: ",")),
                    .init("rejected", self.cases[index].rejected.map { "\($0.source):\($0.rule)" }.joined(separator: ",")),
                ] + self.cases[index].rejected.map { .init("rejection", "\($0.source)|\($0.rule)|\($0.detail)") }),
                self.schedule(
                    index, .feasibility, role: .useCase, work: LifecycleWork.feasibility, input: CanonicalJSON.encode(request),
                    duration: Self.minutes(10), at: at),
            ]

        case .feasibility:
            let report = try CanonicalJSON.decode(FeasibilityReport.self, from: output, what: "feasibility report")
            let record = WorkflowStep.record(kind: "usecase.feasibility", subject: id, fields: [
                .init("feasible", String(report.feasible)), .init("summary", report.summary),
                .init("fitting", report.fittingModels.joined(separator: ",")),
                .init("estimated_gflop", FeasibilityCheck.format(report.estimatedGFLOP)),
            ])
            let evidence = report.checks.map { "\($0.name): \($0.passed ? "ok" : "FAILED") — \($0.detail)" }
            return [record]
                + self.gate(index, report.feasible ? .useCaseApproval : .infeasible, evidence: evidence, recommendation: report.feasible, at: at)

        case .gate(let gate):
            let decision = try CanonicalJSON.decode(GateDecision.self, from: output, what: "gate decision")
            let target = gate == .modelAcceptance || gate == .promotion ? (self.cases[index].record?.label ?? id) : id
            var escalation: [WorkflowStep] = []
            if let from = decision.escalatedFrom {
                escalation.append(.record(kind: "gate.escalated", subject: id, fields: [
                    .init("gate", gate.rawValue), .init("target", target), .init("unanswered_by", from), .init("escalated_to", decision.who),
                    .init("timeout_minutes", String(self.spec.human.timeoutMinutes)),
                ]))
            }
            let record = WorkflowStep.record(kind: "gate.decision", subject: id, fields: [
                .init("gate", gate.rawValue), .init("target", target), .init("approved", String(decision.approved)),
                .init("who", decision.who), .init("reason", decision.reason),
            ])
            return escalation + self.decided(index, gate, decision, record: record, at: at)

        case .prepare:
            let dataset = try PreparedDataset(decoding: output)
            self.cases[index].dataset = dataset
            self.cases[index].datasetHash = dataset.contentHash.description
            let profile = dataset.profile
            let request = SelectionRequest(
                useCase: self.cases[index].spec, zoo: self.spec.zoo, features: dataset.train.features.columns,
                classes: dataset.classLabels.count, trainRows: dataset.train.features.rows, source: profile.sourceID,
                search: self.spec.search, seed: self.seed)
            return [
                .record(kind: "dataset.version", subject: id, fields: [
                    .init("hash", dataset.contentHash.description), .init("source", profile.sourceID),
                    .init("rows", "\(dataset.train.features.rows)/\(dataset.validation.features.rows)/\(dataset.test.features.rows)"),
                    .init("features", String(dataset.train.features.columns)), .init("classes", String(dataset.classLabels.count)),
                    .init("imputed", String(profile.missingImputed)), .init("duplicates", String(profile.duplicatesRemoved)),
                    .init("clipped", String(profile.outliersClipped)),
                ]),
                self.schedule(
                    index, .select, role: .model, work: LifecycleWork.select, input: CanonicalJSON.encode(request),
                    duration: Self.minutes(5), at: at),
            ]

        case .select:
            let plan = try CanonicalJSON.decode(ModelPlan.self, from: output, what: "model plan")
            self.cases[index].plan = plan
            let record = WorkflowStep.record(kind: "model.plan", subject: id, fields: [
                .init("candidates", plan.candidates.joined(separator: ",")),
                .init("trials", plan.trials.map { "\($0.id)=\($0.model)/lr\($0.learningRate)\($0.base.map { "/" + $0 } ?? "")" }
                    .joined(separator: ",")),
                .init("base", plan.base?.id ?? ""), .init("epochs_pruned", String(plan.epochsWithPruning)),
                .init("epochs_unpruned", String(plan.epochsWithoutPruning)),
            ])
            guard !plan.trials.isEmpty else {
                return [record] + self.end(index, state: "infeasible", reason: "no zoo model fits: " + plan.reasons.joined(separator: "; "))
            }
            if let base = plan.base { return [record] + self.pretrain(index, base: base, at: at) }
            return [record] + self.startRung(index, 0, at: at)

        case .pretrain:
            guard case .trained(let model) = try ComputeResponse(decoding: output) else {
                throw WireError(.invalidField, "pretraining returned another response")
            }
            self.cases[index].baseWeights = model.weights
            return [
                .record(kind: "model.pretrained", subject: id, fields: [
                    .init("base", self.cases[index].plan?.base?.id ?? ""), .init("weights", Hex.sha256(model.weights.bytes)),
                    .init("train_accuracy", Self.format(model.epochs.last?.trainAccuracy ?? 0)),
                ])
            ] + self.startRung(index, 0, at: at)

        case .trial(let trial, let rung):
            let response = try ComputeResponse(decoding: output)
            let model: TrainedModel
            switch response {
            case .trained(let trained), .fineTuned(let trained): model = trained
            default: throw WireError(.invalidField, "a trial returned another response")
            }
            self.cases[index].weights[trial] = model.weights
            let last = model.epochs.last
            self.cases[index].scores[trial] = RungRequest.Score(
                trial: trial, validationAccuracy: last?.validationAccuracy ?? 0, validationLoss: last?.validationLoss ?? .infinity)
            self.cases[index].awaiting -= 1
            guard self.cases[index].awaiting == 0, let plan = self.cases[index].plan else { return [] }
            let request = RungRequest(
                rung: rung, scores: self.cases[index].alive.compactMap { self.cases[index].scores[$0] },
                keepFraction: plan.keepFraction, last: rung == plan.rungEpochs.count - 1)
            return [self.schedule(
                index, .rung(rung), role: .model, work: LifecycleWork.rung, input: CanonicalJSON.encode(request),
                duration: Self.minutes(1), at: at)]

        case .rung(let rung):
            let decision = try CanonicalJSON.decode(RungDecision.self, from: output, what: "rung decision")
            let scores = self.cases[index].alive.compactMap { self.cases[index].scores[$0] }
            let record = WorkflowStep.record(kind: "search.rung", subject: id, fields: [
                .init("rung", String(rung)), .init("survivors", decision.survivors.joined(separator: ",")),
                .init("eliminated", decision.eliminated.joined(separator: ",")),
                .init("scores", scores.map { "\($0.trial)=\(Self.format($0.validationAccuracy))" }.joined(separator: ",")),
            ])
            self.cases[index].alive = decision.survivors
            guard let plan = self.cases[index].plan, rung + 1 < plan.rungEpochs.count else {
                self.cases[index].best = decision.survivors.first
                return [record] + self.evaluate(index, at: at)
            }
            return [record] + self.startRung(index, rung + 1, at: at)

        case .evaluate:
            guard case .evaluated(let evaluation) = try ComputeResponse(decoding: output) else {
                throw WireError(.invalidField, "evaluation returned another response")
            }
            let summary = EvaluationSummary(evaluation)
            self.cases[index].evaluation = summary
            return [
                .record(kind: "model.evaluated", subject: id, fields: [
                    .init("trial", self.cases[index].best ?? ""), .init("accuracy", Self.format(summary.accuracy)),
                    .init("macro_f1", Self.format(summary.macroF1)), .init("ece", Self.format(summary.expectedCalibrationError)),
                    .init("nll", Self.format(summary.negativeLogLikelihood)),
                    .init("worst_classes", summary.worstClasses.map(String.init).joined(separator: ",")),
                ])
            ] + self.register(index, at: at)

        case .register:
            let record = try CanonicalJSON.decode(ModelVersionRecord.self, from: output, what: "model version")
            self.cases[index].record = record
            let evidence = [
                "model \(record.label): \(record.lineage.architecture), lr \(record.lineage.learningRate), \(record.lineage.epochs) epochs"
                    + (record.lineage.base.map { ", fine-tuned from \($0)" } ?? ""),
                "test accuracy \(Self.format(record.metrics.accuracy)), macro-F1 \(Self.format(record.metrics.macroF1)), "
                    + "ECE \(Self.format(record.metrics.expectedCalibrationError))",
                "data \(record.lineage.dataset) from \(record.lineage.source)",
                record.meetsObjective ? "meets \(record.objective)" : "misses \(record.objective)",
            ]
            return [
                .record(kind: "model.registered", subject: id, fields: [
                    .init("version", record.label), .init("dataset", record.lineage.dataset),
                    .init("architecture", record.lineage.architecture), .init("base", record.lineage.base ?? ""),
                    .init("learning_rate", String(record.lineage.learningRate)), .init("epochs", String(record.lineage.epochs)),
                    .init("seed", String(record.lineage.seed)), .init("weights", record.weights),
                    .init("accuracy", Self.format(record.metrics.accuracy)), .init("macro_f1", Self.format(record.metrics.macroF1)),
                    .init("meets_objective", String(record.meetsObjective)),
                ])
            ] + self.gate(index, .modelAcceptance, evidence: evidence, recommendation: record.meetsObjective, at: at)

        case .quantize: return try self.quantized(index, output: output, at: at)
        case .evaluateInt8: return try self.evaluatedInt8(index, output: output, at: at)
        case .deploy: return try self.deployed(index, output: output, at: at)
        case .servingTest: return try self.tested(index, output: output, at: at)
        case .promote: return try self.promoted(index, output: output, at: at)
        case .window(let window): return try self.windowMeasured(index, window, output: output, at: at)
        case .expand: return try self.expanded(index, output: output, at: at)
        case .retrain: return try self.retrained(index, output: output, at: at)
        case .notify: return try self.notified(index, output: output)
        }
    }

    /// What follows a gate's decision.
    mutating func decided(
        _ index: Int, _ gate: GateRequest.Gate, _ decision: GateDecision, record: WorkflowStep, at: SimTime
    ) -> [WorkflowStep] {
        let retraining = self.cases[index].generation > 1
        switch (gate, decision.approved) {
        case (.useCaseApproval, true), (.infeasible, true):
            return [record] + self.prepare(index, at: at)
        case (.useCaseApproval, false):
            return [record] + self.end(index, state: "rejected", reason: decision.reason)
        case (.infeasible, false):
            return [record] + self.end(index, state: "infeasible", reason: decision.reason)
        case (.dataFailure, _):
            return [record] + self.end(index, state: "data-failed", reason: decision.reason)
        case (.modelAcceptance, true):
            guard self.spec.serving != nil else { return [record] + self.end(index, state: "accepted", reason: decision.reason) }
            return [record] + self.optimize(index, at: at)
        case (.promotion, true):
            return [record] + self.promote(index, at: at)
        case (.modelAcceptance, false), (.promotion, false):
            // A rejected retraining leaves production as it is; a first model ends the use case.
            if retraining { return [record] + self.retrainEnded(index, at: at) }
            return [record] + self.end(index, state: "rejected", reason: decision.reason)
        }
    }

    // MARK: - Stages that schedule work

    mutating func prepare(_ index: Int, at: SimTime) -> [WorkflowStep] {
        guard let source = self.cases[index].source else {
            return self.end(index, state: "infeasible", reason: "no compliant data source")
        }
        if let outage = self.spec.outages?.first(where: { $0.source == source.id && $0.covers(at) }) {
            // The source is down: preparation waits for it to come back.
            return [
                .record(kind: "data.outage", subject: self.cases[index].spec.id, fields: [
                    .init("source", source.id), .init("until", SimClock.iso8601(outage.end)),
                ]),
                .wake(tag: "outage/\(index)", at: outage.end),
            ]
        }
        let request = PrepareRequest(useCaseID: self.cases[index].spec.id, source: source, seed: self.seed)
        let cells = Double((source.rows ?? 2_000) * ((source.features ?? 64) + 1))
        return [self.schedule(
            index, .prepare, role: .data, work: DataWork.prepare.rawValue, input: request.encoded(),
            duration: Self.minutes(2) + Self.seconds(cells / 100_000), at: at)]
    }

    mutating func pretrain(_ index: Int, base: ModelZoo.PretrainedBase, at: SimTime) -> [WorkflowStep] {
        guard let dataset = self.cases[index].dataset else { return [] }
        let rows = Self.rows(dataset.train, keeping: Set(base.classes))
        let hyperparameters = Hyperparameters(
            epochs: base.epochs, batchSize: self.spec.search.batchSize, learningRate: 1e-3, l2: Float(self.spec.search.l2),
            seed: Self.derivedSeed(self.seed, "pretrain/" + base.id))
        let request = ComputeRequest.train(TrainRequest(
            architecture: base.architecture, classLabels: base.classes.sorted(), hyperparameters: hyperparameters, data: .inline(rows)))
        return [self.schedule(
            index, .pretrain, role: .compute, work: request.work, input: request.encoded(),
            duration: self.trainingCost(base.architecture, rows: rows.features.rows, epochs: base.epochs, dataset: dataset), at: at)]
    }

    mutating func startRung(_ index: Int, _ rung: Int, at: SimTime) -> [WorkflowStep] {
        guard let plan = self.cases[index].plan, let dataset = self.cases[index].dataset else { return [] }
        if rung == 0 { self.cases[index].alive = plan.trials.map(\.id) }
        self.cases[index].rung = rung
        self.cases[index].scores = [:]
        let epochs = plan.rungEpochs[rung] - (rung == 0 ? 0 : plan.rungEpochs[rung - 1])
        var steps: [WorkflowStep] = []
        for trialID in self.cases[index].alive {
            guard let trial = plan.trials.first(where: { $0.id == trialID }) else { continue }
            let hyperparameters = Hyperparameters(
                epochs: epochs, batchSize: self.spec.search.batchSize, learningRate: Float(trial.learningRate),
                l2: Float(self.spec.search.l2), seed: trial.seed &+ UInt64(rung))
            let request: ComputeRequest
            if rung > 0, let weights = self.cases[index].weights[trialID] {
                request = .fineTune(FineTuneRequest(
                    base: .inline(weights), head: .keep, hyperparameters: hyperparameters, data: .inline(dataset.train),
                    validation: .inline(dataset.validation)))
            } else if trial.base != nil, let base = self.cases[index].baseWeights {
                request = .fineTune(FineTuneRequest(
                    base: .inline(base), head: .replace(classLabels: dataset.classLabels), hyperparameters: hyperparameters,
                    data: .inline(dataset.train), validation: .inline(dataset.validation)))
            } else {
                request = .train(TrainRequest(
                    architecture: trial.architecture, classLabels: dataset.classLabels, hyperparameters: hyperparameters,
                    data: .inline(dataset.train), validation: .inline(dataset.validation)))
            }
            self.cases[index].epochsTrained[trialID, default: 0] += epochs
            steps.append(self.schedule(
                index, .trial(trialID, rung: rung), role: .compute, work: request.work, input: request.encoded(),
                duration: self.trainingCost(trial.architecture, rows: dataset.train.features.rows, epochs: epochs, dataset: dataset),
                at: at))
        }
        self.cases[index].awaiting = steps.count
        return steps
    }

    mutating func evaluate(_ index: Int, at: SimTime) -> [WorkflowStep] {
        guard let best = self.cases[index].best, let weights = self.cases[index].weights[best],
            let dataset = self.cases[index].dataset,
            let trial = self.cases[index].plan?.trials.first(where: { $0.id == best }),
            let architecture = Architecture(parsing: trial.architecture)
        else {
            return self.end(index, state: "failed", reason: "the search produced no model")
        }
        let request = ComputeRequest.evaluate(EvaluateRequest(model: .inline(weights), data: .inline(dataset.test)))
        let flops = architecture.forwardFLOPs(features: dataset.test.features.columns, classes: dataset.classLabels.count)
            * Double(dataset.test.features.rows)
        return [self.schedule(
            index, .evaluate, role: .compute, work: request.work, input: request.encoded(),
            duration: Self.seconds(30) + UInt64(flops / (self.spec.zoo.device.trainingGFLOPS * 1e3)), at: at)]
    }

    mutating func register(_ index: Int, at: SimTime) -> [WorkflowStep] {
        let item = self.cases[index]
        guard let best = item.best, let trial = item.plan?.trials.first(where: { $0.id == best }),
            let weights = item.weights[best], let evaluation = item.evaluation, let source = item.source
        else {
            return self.end(index, state: "failed", reason: "nothing to register")
        }
        self.cases[index].version += 1
        let request = RegistrationRequest(
            useCase: item.spec, version: self.cases[index].version, trial: trial, epochs: item.epochsTrained[best] ?? 0,
            batchSize: self.spec.search.batchSize, l2: self.spec.search.l2, dataset: item.datasetHash, source: source.id,
            weights: "sha256:" + Hex.sha256(weights.bytes), weightsBytes: weights.bytes.count, evaluation: evaluation)
        return [self.schedule(
            index, .register, role: .model, work: LifecycleWork.register, input: CanonicalJSON.encode(request),
            duration: Self.minutes(2), at: at)]
    }

    // MARK: - Helpers

    /// Simulated training time: 30 s plus the epochs' FLOPs at the zoo device's throughput.
    func trainingCost(_ architectureText: String, rows: Int, epochs: Int, dataset: PreparedDataset) -> UInt64 {
        guard let architecture = Architecture(parsing: architectureText) else { return Self.seconds(30) }
        let gflop = SearchCost.epochGFLOP(
            architecture, features: dataset.train.features.columns, classes: dataset.classLabels.count, rows: rows) * Double(epochs)
        return Self.seconds(30) + UInt64(gflop / self.spec.zoo.device.trainingGFLOPS * 1e6)
    }

    /// The rows of `data` whose label is in `classes`.
    static func rows(_ data: LabeledRows, keeping classes: Set<Int>) -> LabeledRows {
        var values: [Float] = []
        var labels: [Int] = []
        for (row, label) in data.labels.enumerated() where classes.contains(label) {
            values.append(contentsOf: data.features.row(row))
            labels.append(label)
        }
        return LabeledRows(
            features: TensorFrame(rows: labels.count, columns: data.features.columns, values: values), labels: labels)
    }

    /// A seed for `purpose`, derived from the scenario's.
    static func derivedSeed(_ seed: UInt64, _ purpose: String) -> UInt64 {
        var rng = SeededRandom(seed: seed, key: purpose)
        return rng.next()
    }

    /// A metric with 4 decimals, as journal fields hold them.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        let scaled = (value * 10_000).rounded() / 10_000
        return String(scaled)
    }
}
