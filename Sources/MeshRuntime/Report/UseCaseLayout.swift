import Foundation
import MeshCore

/// Lays one use case out: outcome, timeline, data, model search, evaluation, optimization,
/// serving, monitoring, alerts, retraining, decisions. A stage the use case never reached is left
/// out rather than shown empty.
struct UseCaseLayout {
    let useCase: UseCaseReport
    let chart: ReportChart?

    func blocks() -> [ReportBlock] {
        let useCase = self.useCase
        var blocks: [ReportBlock] = [
            .heading(level: 2, text: "Use case \(useCase.id)" + (useCase.title.isEmpty ? "" : ": \(useCase.title)"))
        ]
        blocks += self.outcome()
        blocks += self.timeline()
        blocks += self.data()
        blocks += self.search()
        blocks += self.evaluation()
        blocks += self.optimization()
        blocks += self.serving()
        blocks += self.monitoring()
        blocks += self.alerts()
        blocks += self.retraining()
        blocks += self.decisions()
        blocks += self.failures()
        return blocks
    }

    // MARK: - Sections

    private func outcome() -> [ReportBlock] {
        let useCase = self.useCase
        var outcome: [ReportInline] = [.text("Outcome: ")]
        if let ending = useCase.ending {
            outcome.append(.strong(ending.state))
            if !ending.model.isEmpty { outcome += [.text(", model "), .code(ending.model)] }
            outcome.append(.text(" — \(ending.reason) (at \(ReportFormat.time(ending.time)))."))
        } else {
            outcome.append(.strong("not ended"))
            outcome.append(.text(" — the journal has no end for this use case (the run stopped or is still going)."))
        }
        var blocks: [ReportBlock] = [.paragraph(outcome)]
        var limits: [[ReportInline]] = []
        if !useCase.objective.isEmpty { limits.append([.text("Objective: "), .code(useCase.objective)]) }
        if !useCase.p99Milliseconds.isEmpty {
            limits.append(.plain("Serving latency: p99 at most \(useCase.p99Milliseconds) ms"))
        }
        if let bytes = Int(useCase.maxBytes) {
            limits.append(.plain("Model size: at most \(ReportFormat.bytes(bytes))"))
        }
        if !useCase.budgetGflop.isEmpty { limits.append(.plain("Training budget: \(useCase.budgetGflop) GFLOP")) }
        if !limits.isEmpty { blocks.append(.bullets(limits)) }
        return blocks
    }

    private func timeline() -> [ReportBlock] {
        guard !self.useCase.timeline.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Timeline"),
            .table(
                header: ["Simulated time", "Since start", "Stage", "What happened"],
                rows: self.useCase.timeline.map { entry in
                    [
                        .plain(ReportFormat.time(entry.time)), .plain(ReportFormat.elapsed(entry.time)),
                        .plain(entry.stage), .plain(entry.text),
                    ]
                }),
        ]
    }

    private func data() -> [ReportBlock] {
        let useCase = self.useCase
        guard
            !useCase.acceptedSources.isEmpty || !useCase.rejectedSources.isEmpty || useCase.feasible != nil
                || !useCase.datasets.isEmpty || !useCase.dataFailures.isEmpty
        else { return [] }
        var blocks: [ReportBlock] = [.heading(level: 3, text: "Data")]
        var items: [[ReportInline]] = []
        if !useCase.acceptedSources.isEmpty || !useCase.rejectedSources.isEmpty {
            items.append(
                [.text("Discovery accepted ")] + ReportLayout.codeList(useCase.acceptedSources)
                    + [.text("; rejected ")] + ReportLayout.codeList(useCase.rejectedSources) + [.text(".")])
        }
        if let feasible = useCase.feasible {
            let verdict = feasible ? "feasible" : "not feasible"
            let summary = useCase.feasibilitySummary
            var line: [ReportInline] = [.text("Feasibility: "), .strong(verdict)]
            if !summary.isEmpty, summary != verdict, summary != "infeasible" { line.append(.text(" (\(summary))")) }
            if !useCase.fittingArchitectures.isEmpty {
                line +=
                    [.text("; architectures within the limits: ")] + ReportLayout.codeList(useCase.fittingArchitectures)
            }
            if !useCase.estimatedGflop.isEmpty {
                line.append(.text("; estimated search cost \(useCase.estimatedGflop) GFLOP"))
            }
            items.append(line + [.text(".")])
        }
        for failure in useCase.dataFailures { items.append(.plain("Preparation failed: \(failure)")) }
        blocks.append(.bullets(items))
        if !useCase.datasets.isEmpty {
            blocks.append(
                .table(
                    header: [
                        "Generation", "Dataset", "Source", "Rows (train/val/test)", "Features", "Classes",
                        "Preparation", "Recorded",
                    ],
                    rows: useCase.datasets.map { row in
                        [
                            .plain(String(row.generation)), [.code(ReportFormat.shortHash(row.hash))],
                            .plain(row.source),
                            .plain(row.rows), .plain(ReportFormat.integer(row.features)),
                            .plain(ReportFormat.integer(row.classes)),
                            .plain(row.preparation.isEmpty ? "–" : row.preparation),
                            .plain(ReportFormat.time(row.time)),
                        ]
                    }))
        }
        return blocks
    }

    private func search() -> [ReportBlock] {
        let useCase = self.useCase
        guard !useCase.trials.isEmpty || !useCase.rungs.isEmpty else { return [] }
        var blocks: [ReportBlock] = [.heading(level: 3, text: "Model search")]
        var items: [[ReportInline]] = []
        if !useCase.candidates.isEmpty {
            items.append(
                [.text("Candidate architectures: ")] + ReportLayout.codeList(useCase.candidates) + [.text(".")])
        }
        if !useCase.trials.isEmpty {
            items.append(
                [.text("\(useCase.trials.count) trials: ")] + ReportLayout.codeList(useCase.trials) + [.text(".")])
        }
        if let base = useCase.pretrainedBase {
            items.append(
                [.text("Pretrained base "), .code(base)]
                    + [
                        .text(
                            ", training accuracy \(ReportFormat.percent(useCase.pretrainedAccuracy)); fine-tuned trials start from it."
                        )
                    ])
        }
        if !items.isEmpty { blocks.append(.bullets(items)) }
        if !useCase.rungs.isEmpty {
            blocks.append(
                .paragraph(
                    .plain(
                        "Successive halving: each rung trains the survivors longer and keeps the best (validation accuracy)."
                    )))
            blocks.append(
                .table(
                    header: ["Rung", "Validation accuracy, best first", "Kept", "Dropped", "Decided"],
                    rows: useCase.rungs.map { rung in
                        let scores = rung.scores.sorted { ($1.score, $0.trial) < ($0.score, $1.trial) }
                            .map { "\($0.trial) \(ReportFormat.percent($0.score))" }
                        return [
                            .plain(String(rung.rung)), .plain(scores.isEmpty ? "–" : scores.joined(separator: ", ")),
                            ReportLayout.codeList(rung.survivors), ReportLayout.codeList(rung.eliminated),
                            .plain(ReportFormat.time(rung.time)),
                        ]
                    }))
        }
        return blocks
    }

    private func evaluation() -> [ReportBlock] {
        guard !self.useCase.evaluations.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Evaluation on the test set"),
            .table(
                header: [
                    "Model", "Trial", "Accuracy", "Macro-F1", "ECE", "NLL", "Worst classes", "Meets objective",
                    "Training",
                ],
                rows: self.useCase.evaluations.map { evaluation in
                    let model = evaluation.registered
                    var training = "–"
                    if let model {
                        training =
                            "\(model.architecture), lr \(model.learningRate), \(model.epochs) epochs"
                            + (model.base.isEmpty ? "" : ", from \(model.base)")
                    }
                    return [
                        model.map { [.code($0.version)] } ?? .plain("not registered"),
                        .plain(evaluation.trial.isEmpty ? "–" : evaluation.trial),
                        .plain(ReportFormat.percent(evaluation.accuracy)),
                        .plain(ReportFormat.percent(evaluation.macroF1)),
                        .plain(ReportFormat.decimal(evaluation.ece, digits: 4)),
                        .plain(ReportFormat.decimal(evaluation.nll, digits: 4)),
                        .plain(evaluation.worstClasses.isEmpty ? "–" : evaluation.worstClasses),
                        .plain(model.map { ReportFormat.yesNo($0.meetsObjective) } ?? "–"), .plain(training),
                    ]
                }),
            .paragraph(
                .plain(
                    "ECE is the expected calibration error, NLL the mean negative log-likelihood; lower is better for both."
                )),
        ]
    }

    private func optimization() -> [ReportBlock] {
        guard !self.useCase.optimizations.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Optimization: FP32 and INT8"),
            .table(
                header: [
                    "Version", "FP32 accuracy", "INT8 accuracy", "Change", "Tolerance", "FP32 size", "INT8 size",
                    "Kept",
                ],
                rows: self.useCase.optimizations.map { optimization in
                    var change = "–"
                    if let fp32 = optimization.fp32Accuracy, let int8 = optimization.int8Accuracy {
                        change = String(format: "%+.2f points", (int8 - fp32) * 100)
                    }
                    return [
                        [.code(optimization.version)], .plain(ReportFormat.percent(optimization.fp32Accuracy)),
                        .plain(ReportFormat.percent(optimization.int8Accuracy)), .plain(change),
                        .plain(optimization.tolerancePoints.isEmpty ? "–" : "\(optimization.tolerancePoints) points"),
                        .plain(ReportFormat.bytes(optimization.fp32Bytes)),
                        .plain(ReportFormat.bytes(optimization.int8Bytes)),
                        [.strong(optimization.kept)],
                    ]
                }),
        ]
    }

    private func serving() -> [ReportBlock] {
        let useCase = self.useCase
        guard !useCase.deployments.isEmpty || !useCase.promotions.isEmpty else { return [] }
        var blocks: [ReportBlock] = [.heading(level: 3, text: "Serving")]
        if !useCase.deployments.isEmpty {
            blocks.append(
                .paragraph(
                    .plain(
                        "Each version is deployed to staging and tested end to end through the HTTP inference API: the test set's rows, "
                            + "then malformed requests that must be refused, then a row again to check it still serves."
                    )))
            blocks.append(
                .table(
                    header: [
                        "Version", "Deployed", "Alias", "Precision", "Test rows", "HTTP accuracy", "Evaluated accuracy",
                        "Edge cases", "Serves after them", "Passed",
                    ],
                    rows: useCase.deployments.map { deployment in
                        let test = deployment.test
                        return [
                            [.code(deployment.version)], .plain(ReportFormat.time(deployment.time)),
                            .plain(deployment.alias.isEmpty ? "–" : deployment.alias),
                            .plain(deployment.precision.isEmpty ? "–" : deployment.precision),
                            .plain(ReportFormat.integer(test?.rows)), .plain(ReportFormat.percent(test?.httpAccuracy)),
                            .plain(ReportFormat.percent(test?.evaluatedAccuracy)),
                            .plain(test?.edgeCases ?? "not tested"),
                            .plain(test.map { ReportFormat.yesNo($0.servingAfterEdgeCases) } ?? "–"),
                            test.map { [.strong(ReportFormat.yesNo($0.passed))] } ?? .plain("–"),
                        ]
                    }))
            let statuses = useCase.deployments.compactMap { deployment in
                deployment.test.map { (version: deployment.version, statuses: $0.edgeCaseStatuses) }
            }.filter { !$0.statuses.isEmpty }
            if let first = statuses.first {
                let same = statuses.allSatisfy { $0.statuses == first.statuses }
                for tested in same ? [first] : statuses {
                    let pairs = tested.statuses.split(separator: ",").map {
                        $0.replacingOccurrences(of: "=", with: " → ")
                    }
                    let label =
                        same
                        ? "Edge cases and the HTTP status each got: "
                        : "Edge cases of \(tested.version) and their statuses: "
                    blocks.append(.paragraph([.text(label)] + ReportLayout.codeList(pairs) + [.text(".")]))
                }
            }
            let loads = useCase.deployments.filter { $0.load != nil }
            if !loads.isEmpty {
                blocks.append(
                    .paragraph([
                        .strong("Load tests (wall clock):"),
                        .text(
                            " client-side round trips against staging, measured on the machine that ran the mesh; they vary "
                                + "from run to run and are not part of the digest."),
                    ]))
                blocks.append(
                    .table(
                        header: ["Version", "Requests", "Connections", "p50", "p99", "Requests/s", "Errors"],
                        rows: loads.map { deployment in
                            let load = deployment.load
                            return [
                                [.code(deployment.version)], .plain(ReportFormat.integer(load?.requests)),
                                .plain(ReportFormat.integer(load?.connections)),
                                .plain(
                                    load?.p50Milliseconds.map { ReportFormat.decimal($0, digits: 2) + " ms" } ?? "–"),
                                .plain(
                                    load?.p99Milliseconds.map { ReportFormat.decimal($0, digits: 2) + " ms" } ?? "–"),
                                .plain(ReportFormat.decimal(load?.requestsPerSecond, digits: 0)),
                                .plain(ReportFormat.integer(load?.errors)),
                            ]
                        }))
                if let limit = Double(useCase.p99Milliseconds) {
                    let p99s = loads.compactMap { $0.load?.p99Milliseconds }
                    if let worst = p99s.max() {
                        blocks.append(
                            .paragraph(
                                .plain(
                                    "The use case asks for p99 at most \(useCase.p99Milliseconds) ms; the worst load-test p99 was "
                                        + "\(ReportFormat.decimal(worst, digits: 2)) ms (\(worst <= limit ? "within" : "above") it, on this machine)."
                                )))
                    }
                }
            }
        }
        if !useCase.promotions.isEmpty {
            blocks.append(
                .table(
                    header: ["Promoted", "Version", "To alias", "Replacing", "Precision"],
                    rows: useCase.promotions.map { promotion in
                        [
                            .plain(ReportFormat.time(promotion.time)), [.code(promotion.version)],
                            .plain(promotion.alias),
                            promotion.previous.isEmpty ? .plain("none (first)") : [.code(promotion.previous)],
                            .plain(promotion.precision),
                        ]
                    }))
        }
        return blocks
    }

    private func monitoring() -> [ReportBlock] {
        let useCase = self.useCase
        guard useCase.monitoring != nil || !useCase.windows.isEmpty else { return [] }
        var blocks: [ReportBlock] = [.heading(level: 3, text: "Monitoring")]
        if let plan = useCase.monitoring {
            var line =
                "From \(ReportFormat.time(plan.time)): \(plan.hours.map(String.init) ?? "?") hourly windows of "
                + "\(plan.windowRows.map(String.init) ?? "?") stream rows, each sent through the production model's API and "
                + "checked against held-out labels and the training data's distribution (KS and PSI per feature)."
            if let hour = plan.driftAtHour { line += " Drift is scripted from hour \(hour): \(plan.drift)." }
            if !plan.alertRules.isEmpty {
                line += " Alert rules: \(plan.alertRules.replacingOccurrences(of: ",", with: ", "))."
            }
            blocks.append(.paragraph(.plain(line)))
        }
        if let chart = self.chart { blocks.append(.chart(chart)) }
        guard !useCase.windows.isEmpty else {
            blocks.append(.paragraph(.plain("No window was recorded.")))
            return blocks
        }
        blocks.append(
            .table(
                header: [
                    "Windows", "Version", "Drift", "Held-out accuracy: mean (min–max)", "Stream accuracy", "KS-flagged",
                    "PSI-flagged", "Max PSI",
                ],
                rows: Self.segments(useCase.windows).map { segment in
                    let first = segment[0]
                    let last = segment[segment.count - 1]
                    let heldOut = segment.compactMap(\.heldOutAccuracy)
                    let stream = segment.compactMap(\.accuracy)
                    let drift =
                        first.scriptedDrift
                        ? (first.drifted ? "scripted, detected" : "scripted, not detected")
                        : (first.drifted ? "detected (not scripted)" : "none")
                    return [
                        .plain(first.window == last.window ? "\(first.window)" : "\(first.window)–\(last.window)"),
                        [.code("v\(first.version)")], .plain(drift),
                        .plain(
                            "\(ReportFormat.percent(Self.mean(heldOut))) (\(ReportFormat.percent(heldOut.min()))–\(ReportFormat.percent(heldOut.max())))"
                        ),
                        .plain(ReportFormat.percent(Self.mean(stream))),
                        .plain(Self.range(segment.compactMap(\.ksFlagged))),
                        .plain(Self.range(segment.compactMap(\.psiFlagged))),
                        .plain(ReportFormat.decimal(segment.compactMap(\.maxPSI).max(), digits: 3)),
                    ]
                }))
        let milliseconds = useCase.windowInferenceMilliseconds.sorted()
        if !milliseconds.isEmpty {
            let middle = milliseconds.count / 2
            let median =
                milliseconds.count % 2 == 1
                ? milliseconds[middle] : (milliseconds[middle - 1] + milliseconds[middle]) / 2
            blocks.append(
                .paragraph([
                    .strong("Wall clock:"),
                    .text(
                        " sending a window's rows through the inference API took \(median) ms (median; "
                            + "\(milliseconds[0])–\(milliseconds[milliseconds.count - 1]) ms over \(milliseconds.count) windows) "
                            + "on the machine that ran the mesh."),
                ]))
        }
        blocks.append(
            .details(
                summary: "All \(useCase.windows.count) windows",
                blocks: [
                    .table(
                        header: [
                            "Window", "Simulated time", "Version", "Rows", "Stream accuracy", "Held-out accuracy",
                            "KS-flagged",
                            "PSI-flagged", "Max KS", "Max PSI", "Drift detected", "Drift scripted",
                        ],
                        rows: useCase.windows.map { window in
                            [
                                .plain(String(window.window)), .plain(ReportFormat.time(window.time)),
                                .plain("v\(window.version)"),
                                .plain(ReportFormat.integer(window.rows)),
                                .plain(ReportFormat.percent(window.accuracy)),
                                .plain(ReportFormat.percent(window.heldOutAccuracy)),
                                .plain(ReportFormat.integer(window.ksFlagged)),
                                .plain(ReportFormat.integer(window.psiFlagged)),
                                .plain(ReportFormat.decimal(window.maxKS, digits: 3)),
                                .plain(ReportFormat.decimal(window.maxPSI, digits: 3)),
                                .plain(ReportFormat.yesNo(window.drifted)),
                                .plain(ReportFormat.yesNo(window.scriptedDrift)),
                            ]
                        })
                ]))
        return blocks
    }

    private func alerts() -> [ReportBlock] {
        guard !self.useCase.alerts.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Alerts"),
            .table(
                header: [
                    "Alert", "Severity", "Condition", "Fired", "In window", "Resolved", "In window", "Version",
                    "Accuracy",
                    "KS-flagged",
                ],
                rows: self.useCase.alerts.map { alert in
                    [
                        [.strong(alert.alert)], .plain(alert.severity), [.code(alert.condition)],
                        .plain(alert.startsAt.isEmpty ? ReportFormat.time(alert.firedTime) : alert.startsAt),
                        .plain(alert.firedWindow),
                        .plain(alert.resolvedTime == nil ? "still firing at the end" : (alert.endsAt ?? "")),
                        .plain(alert.resolvedWindow ?? "–"), .plain(alert.version.isEmpty ? "–" : "v\(alert.version)"),
                        .plain(ReportFormat.percent(alert.accuracy)),
                        .plain(alert.ksFlagged.isEmpty ? "–" : alert.ksFlagged),
                    ]
                }),
        ]
    }

    private func retraining() -> [ReportBlock] {
        guard !self.useCase.retrainings.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Retraining"),
            .table(
                header: ["Requested", "Generation", "Alerts", "Windows", "Labelled rows", "Evidence", "Result"],
                rows: self.useCase.retrainings.map { retraining in
                    var result = "no result recorded"
                    if let failure = retraining.failure {
                        result = "failed: \(failure)"
                    } else if let from = retraining.retrainedFrom {
                        result =
                            "retrained \(from), validation accuracy \(ReportFormat.percent(retraining.validationAccuracy))"
                    }
                    return [
                        .plain(ReportFormat.time(retraining.time)), .plain(retraining.generation),
                        .plain(retraining.alerts),
                        .plain(retraining.windows), .plain(retraining.labelledRows), .plain(retraining.evidence),
                        .plain(result),
                    ]
                }),
        ]
    }

    private func decisions() -> [ReportBlock] {
        guard !self.useCase.decisions.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Decisions"),
            .table(
                header: ["Decided", "Gate", "Target", "Decided by", "Approved", "Reason", "Escalation"],
                rows: self.useCase.decisions.map { decision in
                    var escalation = "–"
                    if let escalated = decision.escalation {
                        escalation =
                            "\(escalated.unansweredBy) did not answer within \(escalated.timeoutMinutes) min; "
                            + "escalated to \(escalated.escalatedTo) at \(ReportFormat.time(escalated.time))"
                    }
                    return [
                        .plain(ReportFormat.time(decision.time)), [.code(decision.gate)], [.code(decision.target)],
                        .plain(decision.who),
                        [.strong(ReportFormat.yesNo(decision.approved))], .plain(decision.reason), .plain(escalation),
                    ]
                }),
        ]
    }

    private func failures() -> [ReportBlock] {
        guard !self.useCase.failures.isEmpty else { return [] }
        return [
            .heading(level: 3, text: "Tasks that failed"),
            .table(
                header: ["Simulated time", "Task and reason"],
                rows: self.useCase.failures.map { [.plain(ReportFormat.time($0.time)), .plain($0.text)] }),
        ]
    }

    // MARK: - Helpers

    /// Consecutive windows with the same version and drift state.
    static func segments(_ windows: [UseCaseReport.Window]) -> [[UseCaseReport.Window]] {
        var segments: [[UseCaseReport.Window]] = []
        for window in windows {
            if let last = segments.last?.last, last.version == window.version, last.drifted == window.drifted,
                last.scriptedDrift == window.scriptedDrift
            {
                segments[segments.count - 1].append(window)
            } else {
                segments.append([window])
            }
        }
        return segments
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// `3` or `0–3`; a dash for none.
    static func range(_ values: [Int]) -> String {
        guard let low = values.min(), let high = values.max() else { return "–" }
        return low == high ? "\(low)" : "\(low)–\(high)"
    }
}
