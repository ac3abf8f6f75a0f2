import MeshCore

/// Folds a use case's records, in journal order, into its ``UseCaseReport``; keeps what links
/// records to each other (the retraining generation, escalations waiting for their decision).
struct UseCaseReportBuilder {
    let id: String
    /// Load-test figures by generation (1 for `uc/<id>/serving-test`, N for `uc/<id>/gN/serving-test`).
    private var loads: [Int: UseCaseReport.LoadFigures] = [:]
    /// Wall-clock inference milliseconds by monitoring window.
    private var windowMilliseconds: [Int: Int] = [:]
    /// The retraining generation the records are in.
    private var generation = 1
    /// Escalations waiting for their gate's decision, by `gate target`.
    private var escalations: [String: UseCaseReport.Escalation] = [:]
    /// Where the timeline stood after the last monitoring window, for the line that closes the stream.
    private var afterLastWindow = 0

    init(id: String, telemetry: [RunReportDocument.Telemetry]) {
        self.id = id
        let prefix = "uc/\(id)/"
        for event in telemetry where event.task.hasPrefix(prefix) {
            let step = event.task.dropFirst(prefix.count).split(separator: "/").map(String.init)
            let values = event.values
            if step.last == "serving-test" {
                var generation = 1
                if step.count == 2, step[0].hasPrefix("g"), let number = Int(step[0].dropFirst()) {
                    generation = number
                }
                // A re-awarded task reports again: the last figures are the ones its result carried.
                self.loads[generation] = UseCaseReport.LoadFigures(
                    requests: values["load.requests"].flatMap { Int($0) },
                    connections: values["load.connections"].flatMap { Int($0) },
                    p50Milliseconds: values["load.p50_ms"].flatMap { Double($0) },
                    p99Milliseconds: values["load.p99_ms"].flatMap { Double($0) },
                    requestsPerSecond: values["load.rps"].flatMap { Double($0) },
                    errors: values["load.errors"].flatMap { Int($0) })
            } else if step.count == 2, step[0] == "window", let window = Int(step[1]),
                let milliseconds = values["window.inference_ms"].flatMap({ Int($0) })
            {
                self.windowMilliseconds[window] = milliseconds
            }
        }
    }

    mutating func add(_ record: LogicalRecord, to report: inout UseCaseReport) {
        let time = record.time
        func text(_ name: String) -> String { record.field(name) ?? "" }
        func number(_ name: String) -> Double? { record.field(name).flatMap { Double($0) } }
        func integer(_ name: String) -> Int? { record.field(name).flatMap { Int($0) } }
        func flag(_ name: String) -> Bool { record.field(name) == "true" }
        func list(_ name: String) -> [String] { text(name).split(separator: ",").map(String.init) }
        func note(_ stage: String, _ line: String) {
            report.timeline.append(UseCaseReport.TimelineEntry(time: time, stage: stage, text: line))
        }

        switch record.kind {
        case "usecase.registered":
            report.title = text("title")
            report.objective = text("objective")
            report.p99Milliseconds = text("p99_ms")
            report.maxBytes = text("max_bytes")
            report.budgetGflop = text("budget_gflop")
            note("intake", "registered: \(report.title) (objective \(report.objective))")

        case "data.discovery":
            report.acceptedSources = list("accepted")
            report.rejectedSources = list("rejected")
            note(
                "data discovery",
                "accepted \(ReportFormat.list(report.acceptedSources)); rejected \(ReportFormat.list(report.rejectedSources))"
            )

        case "usecase.feasibility":
            report.feasible = flag("feasible")
            report.feasibilitySummary = text("summary")
            report.fittingArchitectures = list("fitting")
            report.estimatedGflop = text("estimated_gflop")
            let verdict = report.feasible == true ? "feasible" : "not feasible"
            let summary = report.feasibilitySummary
            note(
                "feasibility",
                summary.isEmpty || summary == verdict || summary == "infeasible" ? verdict : "\(verdict): \(summary)")

        case "data.failed":
            report.dataFailures.append(text("reason"))
            note("data failure", text("reason"))

        case "gate.escalated":
            let escalation = UseCaseReport.Escalation(
                time: time, unansweredBy: text("unanswered_by"), escalatedTo: text("escalated_to"),
                timeoutMinutes: text("timeout_minutes"))
            self.escalations[text("gate") + " " + text("target")] = escalation
            note(
                "gate escalated",
                "\(text("gate")) on \(text("target")): \(escalation.unansweredBy) did not answer within "
                    + "\(escalation.timeoutMinutes) min; escalated to \(escalation.escalatedTo)")

        case "gate.decision":
            let key = text("gate") + " " + text("target")
            let decision = UseCaseReport.Decision(
                time: time, gate: text("gate"), target: text("target"), approved: flag("approved"), who: text("who"),
                reason: text("reason"), escalation: self.escalations.removeValue(forKey: key))
            report.decisions.append(decision)
            note(
                "gate",
                "\(decision.gate) on \(decision.target): \(decision.approved ? "approved" : "rejected") by \(decision.who)"
            )

        case "dataset.version":
            let generation = integer("generation") ?? 1
            var preparation: [String] = []
            if let extra = record.field("extra_rows") { preparation.append("\(extra) labelled stream rows added") }
            for (name, label) in [("imputed", "imputed"), ("duplicates", "duplicates dropped"), ("clipped", "clipped")]
            {
                if let value = record.field(name) { preparation.append("\(value) \(label)") }
            }
            // A retraining's dataset extends the one before with rows of the same schema.
            let row = UseCaseReport.DatasetRow(
                time: time, hash: text("hash"), source: text("source"), rows: text("rows"),
                features: integer("features") ?? report.datasets.last?.features,
                classes: integer("classes") ?? report.datasets.last?.classes, generation: generation,
                preparation: preparation.joined(separator: ", "))
            report.datasets.append(row)
            note("dataset", "\(ReportFormat.shortHash(row.hash)) from \(row.source), rows \(row.rows) (train/val/test)")

        case "model.plan":
            report.candidates = list("candidates")
            report.trials = list("trials")
            note("model search", "\(report.trials.count) trials over \(ReportFormat.list(report.candidates))")

        case "model.pretrained":
            report.pretrainedBase = text("base")
            report.pretrainedAccuracy = number("train_accuracy")
            note(
                "pretraining",
                "base \(text("base")), training accuracy \(ReportFormat.percent(report.pretrainedAccuracy))")

        case "search.rung":
            let scores: [(trial: String, score: Double)] = list("scores").compactMap { pair in
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let score = Double(parts[1]) else { return nil }
                return (String(parts[0]), score)
            }
            let rung = UseCaseReport.Rung(
                time: time, rung: integer("rung") ?? report.rungs.count, survivors: list("survivors"),
                eliminated: list("eliminated"), scores: scores)
            report.rungs.append(rung)
            note(
                "search rung \(rung.rung)",
                "kept \(ReportFormat.list(rung.survivors)); dropped \(ReportFormat.list(rung.eliminated))")

        case "model.evaluated":
            report.evaluations.append(
                UseCaseReport.Evaluation(
                    time: time, trial: text("trial"), accuracy: number("accuracy"), macroF1: number("macro_f1"),
                    ece: number("ece"), nll: number("nll"), worstClasses: text("worst_classes"), registered: nil))
            note(
                "evaluation",
                "trial \(text("trial")) on the test set: accuracy \(ReportFormat.percent(number("accuracy"))), "
                    + "macro-F1 \(ReportFormat.percent(number("macro_f1")))")

        case "model.registered":
            let model = UseCaseReport.RegisteredModel(
                time: time, version: text("version"), dataset: text("dataset"), architecture: text("architecture"),
                base: text("base"), learningRate: text("learning_rate"), epochs: text("epochs"),
                weights: text("weights"),
                meetsObjective: flag("meets_objective"))
            if let index = report.evaluations.lastIndex(where: { $0.registered == nil }) {
                report.evaluations[index].registered = model
            } else {
                report.evaluations.append(
                    UseCaseReport.Evaluation(
                        time: time, trial: "", accuracy: number("accuracy"), macroF1: number("macro_f1"), ece: nil,
                        nll: nil,
                        worstClasses: "", registered: model))
            }
            note(
                "model registered",
                "\(model.version) (\(model.architecture)); \(model.meetsObjective ? "meets" : "misses") the objective")

        case "model.optimized":
            let optimization = UseCaseReport.Optimization(
                time: time, version: text("version"), fp32Accuracy: number("fp32_accuracy"),
                int8Accuracy: number("int8_accuracy"), tolerancePoints: text("tolerance_points"),
                fp32Bytes: integer("fp32_bytes"),
                int8Bytes: integer("int8_bytes"), kept: text("kept"))
            report.optimizations.append(optimization)
            note(
                "quantization",
                "\(optimization.version): kept \(optimization.kept) (INT8 \(ReportFormat.percent(optimization.int8Accuracy)) "
                    + "vs FP32 \(ReportFormat.percent(optimization.fp32Accuracy)))")

        case "pipeline.deployed":
            report.deployments.append(
                UseCaseReport.Deployment(
                    time: time, version: text("version"), alias: text("alias"), precision: text("precision"), test: nil,
                    load: self.loads[self.generation]))
            note("deployed", "\(text("version")) to \(text("alias")) (\(text("precision")))")

        case "pipeline.tested":
            let test = UseCaseReport.ServingTest(
                time: time, rows: integer("rows"), httpAccuracy: number("http_accuracy"),
                evaluatedAccuracy: number("evaluated_accuracy"), edgeCases: text("edge_cases"),
                edgeCaseStatuses: text("edge_case_statuses"), servingAfterEdgeCases: flag("serving_after_edge_cases"),
                passed: flag("passed"))
            if let index = report.deployments.lastIndex(where: { $0.version == text("version") && $0.test == nil }) {
                report.deployments[index].test = test
            } else {
                report.deployments.append(
                    UseCaseReport.Deployment(
                        time: time, version: text("version"), alias: "", precision: "", test: test,
                        load: self.loads[self.generation]))
            }
            note(
                "serving test",
                "\(text("version")) \(test.passed ? "passed" : "failed"): HTTP accuracy \(ReportFormat.percent(test.httpAccuracy)), "
                    + "edge cases \(test.edgeCases)")

        case "pipeline.promoted":
            let promotion = UseCaseReport.Promotion(
                time: time, version: text("version"), alias: text("alias"), previous: text("previous"),
                precision: text("precision"))
            report.promotions.append(promotion)
            note(
                "promoted",
                "\(promotion.version) to \(promotion.alias)"
                    + (promotion.previous.isEmpty ? " (first)" : " (replacing \(promotion.previous))"))

        case "monitoring.started":
            report.monitoring = UseCaseReport.MonitoringPlan(
                time: time, hours: integer("hours"), windowRows: integer("window_rows"),
                driftAtHour: integer("drift_at_hour"),
                drift: text("drift"), alertRules: text("alerts"))
            note(
                "monitoring",
                "\(text("hours")) hourly windows of \(text("window_rows")) rows; drift scripted at hour \(text("drift_at_hour"))"
            )

        case "monitoring.window":
            let window = UseCaseReport.Window(
                time: time, window: integer("window") ?? report.windows.count, version: text("version"),
                rows: integer("rows"),
                accuracy: number("accuracy"), heldOutAccuracy: number("held_out_accuracy"),
                ksFlagged: integer("ks_flagged"),
                psiFlagged: integer("psi_flagged"), maxKS: number("max_ks"), maxPSI: number("max_psi"),
                drifted: flag("drifted"), scriptedDrift: flag("scripted_drift"))
            self.noteWindow(window, after: report.windows.last, into: &report)
            report.windows.append(window)
            self.afterLastWindow = report.timeline.count

        case "alert.firing":
            report.alerts.append(
                UseCaseReport.AlertEpisode(
                    alert: text("alert"), severity: text("severity"), condition: text("condition"), firedTime: time,
                    firedWindow: text("window"), startsAt: text("starts_at"), version: text("version"),
                    accuracy: number("accuracy"), ksFlagged: text("ks_flagged"), resolvedTime: nil, resolvedWindow: nil,
                    endsAt: nil))
            note("alert firing", "\(text("alert")) (\(text("severity"))) in window \(text("window"))")

        case "alert.resolved":
            if let index = report.alerts.lastIndex(where: {
                $0.alert == text("alert") && $0.startsAt == text("starts_at") && $0.resolvedTime == nil
            }) {
                report.alerts[index].resolvedTime = time
                report.alerts[index].resolvedWindow = text("window")
                report.alerts[index].endsAt = text("ends_at")
            }
            note("alert resolved", "\(text("alert")) in window \(text("window"))")

        case "retrain.requested":
            if let generation = integer("generation") { self.generation = generation }
            report.retrainings.append(
                UseCaseReport.Retraining(
                    time: time, generation: text("generation"), alerts: text("alerts"), windows: text("windows"),
                    labelledRows: text("labelled_rows"), evidence: text("evidence"), retrainedFrom: nil,
                    validationAccuracy: nil, failure: nil))
            note("retraining requested", "generation \(text("generation")) on \(text("alerts")): \(text("evidence"))")

        case "model.retrained":
            if let index = report.retrainings.indices.last {
                report.retrainings[index].retrainedFrom = "\(text("trial")) from \(text("from"))"
                report.retrainings[index].validationAccuracy = number("validation_accuracy")
            }
            note(
                "retrained",
                "generation \(text("generation")): \(text("trial")) from \(text("from")), validation accuracy "
                    + ReportFormat.percent(number("validation_accuracy")))

        case "retrain.failed":
            if let index = report.retrainings.indices.last {
                report.retrainings[index].failure = text("reason")
            }
            note("retraining failed", text("reason"))

        case "usecase.ended":
            report.ending = UseCaseReport.Ending(
                time: time, state: text("state"), model: text("model"), reason: text("reason"))
            note("ended", "\(text("state")): \(text("reason"))")

        case "task.failed":
            let entry = UseCaseReport.TimelineEntry(
                time: time, stage: "task failed", text: "\(record.subject): \(text("reason"))")
            report.failures.append(entry)
            report.timeline.append(entry)

        default:
            break
        }
    }

    /// Puts the turning points of the monitoring stream on the timeline, not every window.
    private func noteWindow(
        _ window: UseCaseReport.Window, after previous: UseCaseReport.Window?, into report: inout UseCaseReport
    ) {
        func note(_ stage: String, _ line: String) {
            report.timeline.append(UseCaseReport.TimelineEntry(time: window.time, stage: stage, text: line))
        }
        let accuracy = ReportFormat.percent(window.heldOutAccuracy)
        guard let previous else {
            note("monitoring window", "window \(window.window) on v\(window.version): held-out accuracy \(accuracy)")
            return
        }
        if window.scriptedDrift, !previous.scriptedDrift {
            note("scripted drift", "the stream drifts from window \(window.window) (scripted)")
        }
        if window.drifted != previous.drifted {
            let flagged = "\(window.ksFlagged.map(String.init) ?? "–") features flagged by KS"
            note(
                "drift check",
                window.drifted
                    ? "drift detected in window \(window.window): \(flagged), held-out accuracy \(accuracy)"
                    : "no drift detected from window \(window.window)")
        }
        if window.version != previous.version {
            note(
                "monitoring window",
                "window \(window.window) is the first on v\(window.version): held-out accuracy \(accuracy)")
        }
    }

    func finish(_ report: inout UseCaseReport) {
        if report.windows.count > 1, let last = report.windows.last {
            report.timeline.insert(
                UseCaseReport.TimelineEntry(
                    time: last.time, stage: "monitoring window",
                    text:
                        "last window \(last.window) on v\(last.version): held-out accuracy \(ReportFormat.percent(last.heldOutAccuracy))"
                ),
                at: min(self.afterLastWindow, report.timeline.count))
        }
        report.windowInferenceMilliseconds = self.windowMilliseconds.keys.sorted().compactMap {
            self.windowMilliseconds[$0]
        }
    }
}
