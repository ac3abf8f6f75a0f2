/// The second half of the lifecycle: an accepted model is quantized (kept in int8 only within the
/// tolerance), deployed to `staging` on the pipeline agent, tested end to end over HTTP, promoted to
/// `production` after the human gate, and watched: one stream window an hour goes through the
/// production model on the monitoring agent; alert rules with a pending time fire on drift or
/// accuracy; a firing alert expands the data with the labelled drifted windows, fine-tunes the
/// production model, and the new version goes through the same gates.
///
/// The windows run at fixed simulated hours (wake-ups), each naming the production version that
/// is committed at that time, so what a window measures never depends on physical timing.
extension LifecycleWorkflow {
    /// Serving state of one use case.
    struct Serving: Sendable {
        var int8: SerializedWeights?
        var precision = "fp32"
        var candidateFP32: SerializedWeights?
        var stagingVersion: Int?
        var productionVersion: Int?
        var firstProductionVersion: Int?
        var productionWeights: SerializedWeights?
        var deployments = 0
        var promotions = 0
        // Monitoring.
        var stream: StreamReplay?
        var reference: DriftReference?
        var monitorStart: SimTime = .zero
        var trackers: [AlertTracker] = []
        var windowsDone = false
        var retraining = false
        var retrains = 0
        var alertsFired = 0
        var heldWindows: [Int] = []
        var notifications = 0
        var beforeDrift = Tally()
        var driftBeforeRetrain = Tally()
        var driftAfterRetrain = Tally()
    }

    /// Correct answers over rows.
    /// Correct answers over rows, held-out rows only (no model trained on them).
    struct Tally: Sendable {
        var correct = 0
        var rows = 0
        var accuracy: Double? { self.rows == 0 ? nil : Double(self.correct) / Double(self.rows) }

        mutating func add(_ report: WindowReport) {
            self.correct += report.heldOutCorrect
            self.rows += report.heldOutRows
        }
    }

    /// The most retrainings one use case runs.
    static let maximumRetrains = 3

    // MARK: - Optimize and deploy

    /// After the model-acceptance gate approved: quantize, or deploy fp32 straight away.
    mutating func optimize(_ index: Int, at: SimTime) -> [WorkflowStep] {
        guard let settings = self.spec.serving else {
            return self.end(index, state: "accepted", reason: "approved: the evidence meets the objective")
        }
        guard let best = self.cases[index].best, let weights = self.cases[index].weights[best] else {
            return self.end(index, state: "failed", reason: "nothing to deploy")
        }
        self.cases[index].serving.candidateFP32 = weights
        self.cases[index].serving.int8 = nil
        self.cases[index].serving.precision = "fp32"
        guard settings.quantize else { return self.deploy(index, at: at) }
        let request = ComputeRequest.quantize(QuantizeRequest(model: .inline(weights)))
        return [self.schedule(
            index, .quantize, role: .compute, work: request.work, input: request.encoded(), duration: Self.seconds(20), at: at)]
    }

    mutating func quantized(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        guard case .quantized(let int8) = try ComputeResponse(decoding: output) else {
            throw WireError(.invalidField, "quantization returned another response")
        }
        guard let dataset = self.cases[index].dataset else { return [] }
        self.cases[index].serving.int8 = int8
        let request = ComputeRequest.evaluate(EvaluateRequest(model: .inline(int8), data: .inline(dataset.test)))
        return [self.schedule(
            index, .evaluateInt8, role: .compute, work: request.work, input: request.encoded(), duration: Self.seconds(30), at: at)]
    }

    mutating func evaluatedInt8(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        guard case .evaluated(let evaluation) = try ComputeResponse(decoding: output) else {
            throw WireError(.invalidField, "evaluation returned another response")
        }
        let int8 = EvaluationSummary(evaluation)
        let fp32 = self.cases[index].evaluation?.accuracy ?? 0
        let tolerance = (self.spec.serving?.tolerancePoints ?? 0.5) / 100
        let keep = fp32 - int8.accuracy <= tolerance
        self.cases[index].serving.precision = keep ? "int8" : "fp32"
        let record = WorkflowStep.record(kind: "model.optimized", subject: self.cases[index].spec.id, fields: [
            .init("version", self.cases[index].record?.label ?? ""), .init("fp32_accuracy", Self.format(fp32)),
            .init("int8_accuracy", Self.format(int8.accuracy)), .init("tolerance_points", String(tolerance * 100)),
            .init("int8_bytes", String(self.cases[index].serving.int8?.bytes.count ?? 0)),
            .init("fp32_bytes", String(self.cases[index].serving.candidateFP32?.bytes.count ?? 0)),
            .init("kept", keep ? "int8" : "fp32"),
        ])
        return [record] + self.deploy(index, at: at)
    }

    mutating func deploy(_ index: Int, at: SimTime) -> [WorkflowStep] {
        guard let request = self.deployRequest(index, alias: "staging") else {
            return self.end(index, state: "failed", reason: "nothing to deploy")
        }
        return [self.schedule(
            index, .deploy, role: .pipeline, work: ServingWork.deploy, input: request.encoded(), duration: Self.minutes(2), at: at)]
    }

    /// The deploy request of the candidate version under `alias`.
    func deployRequest(_ index: Int, alias: String) -> DeployRequest? {
        let item = self.cases[index]
        guard let record = item.record, let fp32 = item.serving.candidateFP32, let dataset = item.dataset else { return nil }
        return DeployRequest(
            name: record.name, version: record.version, alias: alias, precision: item.serving.precision,
            standardizer: dataset.standardizer, dataset: item.datasetHash, fp32: fp32,
            int8: item.serving.precision == "int8" ? item.serving.int8 : nil)
    }

    mutating func deployed(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let report = try CanonicalJSON.decode(DeploymentReport.self, from: output, what: "deployment report")
        self.cases[index].serving.stagingVersion = report.version
        self.cases[index].serving.deployments += 1
        guard let dataset = self.cases[index].dataset, let settings = self.spec.serving else { return [] }
        let raw = StreamReplay.unstandardized(dataset.test, dataset.standardizer)
        let request = ServingTestRequest(
            name: report.name, version: report.version, connections: settings.loadConnections,
            milliseconds: settings.loadMilliseconds, rows: raw, deploy: self.deployRequest(index, alias: "staging"))
        return [
            .record(kind: "pipeline.deployed", subject: self.cases[index].spec.id, fields: [
                .init("version", "\(report.name)@v\(report.version)"), .init("alias", report.alias),
                .init("precision", report.precision),
            ]),
            self.schedule(
                index, .servingTest, role: .pipeline, work: ServingWork.test, input: request.encoded(), duration: Self.minutes(10),
                at: at),
        ]
    }

    mutating func tested(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let report = try CanonicalJSON.decode(ServingTestReport.self, from: output, what: "serving test report")
        let evaluated = self.cases[index].evaluation?.accuracy ?? 0
        let tolerance = (self.spec.serving?.tolerancePoints ?? 0.5) / 100
        let accurate = report.accuracy >= evaluated - tolerance - 1e-9
        let refused = report.edgeCases.filter(\.refused).count
        let record = WorkflowStep.record(kind: "pipeline.tested", subject: self.cases[index].spec.id, fields: [
            .init("version", "\(report.name)@v\(report.version)"), .init("rows", String(report.rows)),
            .init("http_accuracy", Self.format(report.accuracy)), .init("evaluated_accuracy", Self.format(evaluated)),
            .init("edge_cases", "\(refused)/\(report.edgeCases.count) refused"),
            .init("edge_case_statuses", report.edgeCases.map { "\($0.name)=\($0.status)" }.joined(separator: ",")),
            .init("serving_after_edge_cases", String(report.servingAfterEdgeCases)), .init("passed", String(report.passed && accurate)),
        ])
        let evidence = [
            "staging \(report.name)@v\(report.version) (\(self.cases[index].serving.precision)): accuracy over HTTP "
                + "\(Self.format(report.accuracy)) on \(report.rows) hold-out rows (evaluated \(Self.format(evaluated)))",
            "edge cases: \(refused)/\(report.edgeCases.count) refused with a JSON error; serving after them: \(report.servingAfterEdgeCases)",
            "production now: " + (self.cases[index].serving.productionVersion.map { "\(report.name)@v\($0)" } ?? "none"),
        ]
        return [record] + self.gate(index, .promotion, evidence: evidence, recommendation: report.passed && accurate, at: at)
    }

    mutating func promote(_ index: Int, at: SimTime) -> [WorkflowStep] {
        guard let record = self.cases[index].record, let version = self.cases[index].serving.stagingVersion else {
            return self.end(index, state: "failed", reason: "nothing in staging to promote")
        }
        let request = PromoteRequest(
            name: record.name, version: version, alias: "production", deploy: self.deployRequest(index, alias: "staging"))
        return [self.schedule(
            index, .promote, role: .pipeline, work: ServingWork.promote, input: request.encoded(),
            duration: Self.minutes(1), at: at)]
    }

    mutating func promoted(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let report = try CanonicalJSON.decode(DeploymentReport.self, from: output, what: "promotion report")
        let previous = self.cases[index].serving.productionVersion
        self.cases[index].serving.productionVersion = report.version
        self.cases[index].serving.productionWeights = self.cases[index].serving.candidateFP32
        self.cases[index].serving.promotions += 1
        if self.cases[index].serving.firstProductionVersion == nil { self.cases[index].serving.firstProductionVersion = report.version }
        var steps: [WorkflowStep] = [
            .record(kind: "pipeline.promoted", subject: self.cases[index].spec.id, fields: [
                .init("version", "\(report.name)@v\(report.version)"), .init("alias", report.alias),
                .init("previous", previous.map { "\(report.name)@v\($0)" } ?? ""), .init("precision", report.precision),
            ])
        ]
        if self.cases[index].serving.retraining {
            steps += self.retrainEnded(index, at: at)
            return steps
        }
        guard self.spec.monitoring != nil else {
            return steps + self.end(index, state: "accepted", reason: "promoted to production")
        }
        return steps + self.startMonitoring(index, at: at)
    }

    // MARK: - Monitoring

    mutating func startMonitoring(_ index: Int, at: SimTime) -> [WorkflowStep] {
        guard let settings = self.spec.monitoring, let dataset = self.cases[index].dataset else { return [] }
        let rawTrain = StreamReplay.unstandardized(dataset.train, dataset.standardizer)
        self.cases[index].serving.stream = StreamReplay(
            test: dataset.test, standardizer: dataset.standardizer, range: StreamReplay.range(of: rawTrain),
            seed: Self.derivedSeed(self.seed, "stream/" + self.cases[index].spec.id))
        self.cases[index].serving.reference = DriftReference(
            rows: rawTrain.features, seed: Self.derivedSeed(self.seed, "reference/" + self.cases[index].spec.id))
        self.cases[index].serving.trackers = settings.alerts.map { AlertTracker(rule: $0) }
        self.cases[index].serving.monitorStart = at
        return [
            .record(kind: "monitoring.started", subject: self.cases[index].spec.id, fields: [
                .init("hours", String(settings.hours)), .init("window_rows", String(settings.windowRows)),
                .init("drift_at_hour", String(settings.drift.atHour)), .init("drift", "noise sigma \(settings.drift.noiseSigma) on "
                    + "\(settings.drift.fraction) of features"),
                .init("alerts", settings.alerts.map(\.name).joined(separator: ",")),
            ]),
            .wake(tag: "window/\(index)/0", at: at),
        ]
    }

    /// A wake-up: the hour of window `n` of use case `index` has come.
    mutating func windowDue(_ tag: String, at: SimTime) -> [WorkflowStep] {
        let parts = tag.split(separator: "/")
        guard parts.count == 3, parts[0] == "window", let index = Int(parts[1]), let window = Int(parts[2]),
            self.cases.indices.contains(index), self.cases[index].outcome == nil, let settings = self.spec.monitoring,
            let stream = self.cases[index].serving.stream, let reference = self.cases[index].serving.reference,
            let version = self.cases[index].serving.productionVersion, let record = self.cases[index].record
        else { return [] }
        let rows = stream.window(window, rows: settings.windowRows, drift: settings.drift)
        let request = WindowRequest(
            useCase: self.cases[index].spec.id, name: record.name, version: version, window: window, rule: settings.rule,
            rows: rows.rows, heldOutFrom: rows.heldOutFrom, reference: reference)
        return [self.schedule(
            index, .window(window), role: .monitoring, work: ServingWork.window, input: request.encoded(), duration: Self.minutes(1),
            at: at)]
    }

    mutating func windowMeasured(_ index: Int, _ window: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let report = try CanonicalJSON.decode(WindowReport.self, from: output, what: "window report")
        guard let settings = self.spec.monitoring else { return [] }
        let id = self.cases[index].spec.id
        let drifting = window >= settings.drift.atHour
        let retrained = report.version != self.cases[index].serving.firstProductionVersion
        switch (drifting, retrained) {
        case (false, _):
            self.cases[index].serving.beforeDrift.add(report)
        case (true, false):
            self.cases[index].serving.driftBeforeRetrain.add(report)
        case (true, true):
            self.cases[index].serving.driftAfterRetrain.add(report)
        }
        var steps: [WorkflowStep] = [
            .record(kind: "monitoring.window", subject: id, fields: [
                .init("window", String(window)), .init("version", String(report.version)), .init("rows", String(report.rows)),
                .init("accuracy", Self.format(report.accuracy)), .init("held_out_accuracy", Self.format(report.heldOutAccuracy)),
                .init("ks_flagged", String(report.ksFlagged)), .init("psi_flagged", String(report.psiFlagged)), .init("max_ks", String(report.maxKS)),
                .init("max_psi", String(report.maxPSI)), .init("drifted", String(report.drifted)),
                .init("scripted_drift", String(drifting)),
            ])
        ]
        var fired: [String] = []
        var anyHolds = false
        for tracker in self.cases[index].serving.trackers.indices {
            let rule = self.cases[index].serving.trackers[tracker].rule
            let holds: Bool
            switch rule.condition {
            case .drift: holds = report.drifted
            case .accuracyBelow: holds = report.accuracy < rule.threshold
            }
            anyHolds = anyHolds || holds
            switch self.cases[index].serving.trackers[tracker].evaluate(holds: holds, at: at) {
            case .fire(let startsAt)?:
                self.cases[index].serving.alertsFired += 1
                fired.append(rule.name)
                steps += self.notify(index, rule, firing: true, startsAt: startsAt, endsAt: nil, report: report, at: at)
                steps.append(.record(kind: "alert.firing", subject: id, fields: [
                    .init("alert", rule.name), .init("severity", rule.severity), .init("condition", rule.condition.rawValue),
                    .init("window", String(window)), .init("starts_at", SimClock.iso8601(startsAt)),
                    .init("version", String(report.version)), .init("accuracy", Self.format(report.accuracy)),
                    .init("ks_flagged", String(report.ksFlagged)),
                ]))
            case .resolve(let startsAt, let endsAt)?:
                steps += self.notify(index, rule, firing: false, startsAt: startsAt, endsAt: endsAt, report: report, at: at)
                steps.append(.record(kind: "alert.resolved", subject: id, fields: [
                    .init("alert", rule.name), .init("window", String(window)), .init("starts_at", SimClock.iso8601(startsAt)),
                    .init("ends_at", SimClock.iso8601(endsAt)),
                ]))
            case nil: break
            }
        }
        if anyHolds {
            self.cases[index].serving.heldWindows.append(window)
            self.cases[index].serving.heldWindows = Array(self.cases[index].serving.heldWindows.suffix(settings.retrain.windows))
        }
        if !fired.isEmpty, !self.cases[index].serving.retraining, self.cases[index].serving.retrains < Self.maximumRetrains {
            steps += self.retrain(index, alerts: fired, report: report, at: at)
        }
        if window + 1 < settings.hours {
            let next = SimTime(microseconds: self.cases[index].serving.monitorStart.microseconds + UInt64(window + 1) * 3_600_000_000)
            steps.append(.wake(tag: "window/\(index)/\(window + 1)", at: next))
        } else {
            self.cases[index].serving.windowsDone = true
            if !self.cases[index].serving.retraining { steps += self.endMonitored(index) }
        }
        return steps
    }

    /// Posts an alert's change to the scenario's webhook, when it has one.
    mutating func notify(
        _ index: Int, _ rule: AlertRule, firing: Bool, startsAt: SimTime, endsAt: SimTime?, report: WindowReport, at: SimTime
    ) -> [WorkflowStep] {
        guard let webhook = self.spec.monitoring?.webhook else { return [] }
        let summary = "window \(report.window): accuracy \(Self.format(report.accuracy)), \(report.ksFlagged) features flagged by KS"
        let payload = AlertmanagerPayload(
            rule: rule, subject: self.cases[index].spec.id, firing: firing, startsAt: startsAt, endsAt: endsAt, summary: summary,
            run: "seed-\(self.seed)")
        self.cases[index].serving.notifications += 1
        return [self.schedule(
            index, .notify(self.cases[index].serving.notifications), role: .monitoring, work: ServingWork.notify,
            input: CanonicalJSON.encode(AlertNotification(webhook: webhook, payload: payload)), duration: Self.seconds(10), at: at)]
    }

    mutating func notified(_ index: Int, output: [UInt8]) throws(WireError) -> [WorkflowStep] {
        let posted = try CanonicalJSON.decode([String: String].self, from: output, what: "notification")
        return [.record(kind: "alert.notified", subject: self.cases[index].spec.id, fields: [
            .init("alert", posted["alert"] ?? ""), .init("status", posted["status"] ?? ""),
            .init("webhook", self.spec.monitoring?.webhook ?? ""),
        ])]
    }

    // MARK: - Retraining

    mutating func retrain(_ index: Int, alerts: [String], report: WindowReport, at: SimTime) -> [WorkflowStep] {
        guard let settings = self.spec.monitoring, let stream = self.cases[index].serving.stream,
            let source = self.cases[index].source
        else { return [] }
        self.cases[index].serving.retraining = true
        self.cases[index].serving.retrains += 1
        self.cases[index].generation += 1
        let windows = self.cases[index].serving.heldWindows
        var values: [Float] = []
        var labels: [Int] = []
        for window in windows {
            let rows = stream.window(window, rows: settings.windowRows, drift: settings.drift).feedback
            values += rows.features.values
            labels += rows.labels
        }
        let columns = stream.raw.features.columns
        let extra = LabeledRows(features: TensorFrame(rows: labels.count, columns: columns, values: values), labels: labels)
        var request = PrepareRequest(useCaseID: self.cases[index].spec.id, source: source, seed: self.seed, extraRows: extra)
        request.extraRowsTrainOnly = true
        let cells = Double(((source.rows ?? 2_000) + labels.count) * (columns + 1))
        return [
            .record(kind: "retrain.requested", subject: self.cases[index].spec.id, fields: [
                .init("alerts", alerts.joined(separator: ",")), .init("generation", String(self.cases[index].generation)),
                .init("windows", windows.map(String.init).joined(separator: ",")), .init("labelled_rows", String(labels.count)),
                .init("evidence", "window \(report.window): accuracy \(Self.format(report.accuracy)), "
                    + "\(report.ksFlagged) features flagged by KS, max PSI \(report.maxPSI)"),
            ]),
            self.schedule(
                index, .expand, role: .data, work: DataWork.prepare.rawValue, input: request.encoded(),
                duration: Self.minutes(2) + Self.seconds(cells / 100_000), at: at),
        ]
    }

    mutating func expanded(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let dataset = try PreparedDataset(decoding: output)
        self.cases[index].dataset = dataset
        self.cases[index].datasetHash = dataset.contentHash.description
        guard let settings = self.spec.monitoring, let best = self.cases[index].best,
            let trial = self.cases[index].plan?.trials.first(where: { $0.id == best }),
            let base = self.cases[index].serving.productionWeights
        else { return self.retrainEnded(index, at: at) }
        let hyperparameters = Hyperparameters(
            epochs: settings.retrain.epochs, batchSize: self.spec.search.batchSize, learningRate: Float(trial.learningRate),
            l2: Float(self.spec.search.l2),
            seed: Self.derivedSeed(self.seed, "retrain/\(self.cases[index].spec.id)/\(self.cases[index].generation)"))
        let request = ComputeRequest.fineTune(FineTuneRequest(
            base: .inline(base), head: .keep, hyperparameters: hyperparameters, data: .inline(dataset.train),
            validation: .inline(dataset.validation)))
        return [
            .record(kind: "dataset.version", subject: self.cases[index].spec.id, fields: [
                .init("hash", dataset.contentHash.description), .init("source", dataset.profile.sourceID),
                .init("rows", "\(dataset.train.features.rows)/\(dataset.validation.features.rows)/\(dataset.test.features.rows)"),
                .init("extra_rows", String(dataset.profile.extraRows)), .init("generation", String(self.cases[index].generation)),
            ]),
            self.schedule(
                index, .retrain, role: .compute, work: request.work, input: request.encoded(),
                duration: self.trainingCost(
                    trial.architecture, rows: dataset.train.features.rows, epochs: settings.retrain.epochs, dataset: dataset),
                at: at),
        ]
    }

    mutating func retrained(_ index: Int, output: [UInt8], at: SimTime) throws(WireError) -> [WorkflowStep] {
        let model: TrainedModel
        switch try ComputeResponse(decoding: output) {
        case .trained(let trained), .fineTuned(let trained): model = trained
        default: throw WireError(.invalidField, "retraining returned another response")
        }
        guard let best = self.cases[index].best else { return [] }
        self.cases[index].weights[best] = model.weights
        self.cases[index].epochsTrained[best, default: 0] += self.spec.monitoring?.retrain.epochs ?? 0
        return [
            .record(kind: "model.retrained", subject: self.cases[index].spec.id, fields: [
                .init("generation", String(self.cases[index].generation)), .init("trial", best),
                .init("from", self.cases[index].serving.productionVersion.map { "v\($0)" } ?? ""),
                .init("validation_accuracy", Self.format(model.epochs.last?.validationAccuracy ?? 0)),
                .init("weights", Hex.sha256(model.weights.bytes)),
            ])
        ] + self.evaluate(index, at: at)
    }

    /// A retraining is over (promoted, rejected or failed): monitoring goes on, or ends the use case
    /// when its windows are done.
    mutating func retrainEnded(_ index: Int, at: SimTime) -> [WorkflowStep] {
        self.cases[index].serving.retraining = false
        return self.cases[index].serving.windowsDone ? self.endMonitored(index) : []
    }

    mutating func endMonitored(_ index: Int) -> [WorkflowStep] {
        let serving = self.cases[index].serving
        let version = serving.productionVersion.map { "v\($0)" } ?? "none"
        let steps = self.end(
            index, state: "accepted",
            reason: "monitored for \(self.spec.monitoring?.hours ?? 0) hours; \(serving.retrains) retraining(s); production \(version)")
        self.releaseFinished(index)
        return steps
    }

    /// Lets go of a finished use case's bulk — its dataset, weights, stream and drift reference,
    /// about 1 MB for the digits use case — once its outcome is final and none of its tasks is
    /// pending: nothing reads them after that (the outcome, the counters and the record stay).
    /// A long-lived mesh takes use cases in and out; without this it kept every one's forever.
    mutating func releaseFinished(_ index: Int) {
        guard self.cases[index].outcome != nil, !self.pending.values.contains(where: { $0.index == index }) else { return }
        self.cases[index].dataset = nil
        self.cases[index].baseWeights = nil
        self.cases[index].weights = [:]
        self.cases[index].serving.int8 = nil
        self.cases[index].serving.candidateFP32 = nil
        self.cases[index].serving.productionWeights = nil
        self.cases[index].serving.stream = nil
        self.cases[index].serving.reference = nil
    }
}
