import MeshCore

/// A small model-agent-like workflow for the mesh test: train one trial per seed on the compute
/// role, then evaluate each trained model on the test rows, and journal each trial's accuracy.
struct ComputeTrialsWorkflow: Workflow {
    let seeds: [UInt64]
    let architecture: String
    let hyperparameters: Hyperparameters
    let train: LabeledRows
    let test: LabeledRows
    let classLabels: [Int]

    /// Output bytes of every committed task, by task id.
    private(set) var outputs: [String: [UInt8]] = [:]
    /// The evaluation of each seed's model.
    private(set) var evaluations: [UInt64: ModelEvaluation] = [:]
    private(set) var failures: [String: String] = [:]

    static func trainTask(_ seed: UInt64) -> TaskID { TaskID(unchecked: "trial/\(seed)/train") }
    static func evaluateTask(_ seed: UInt64) -> TaskID { TaskID(unchecked: "trial/\(seed)/evaluate") }

    mutating func start() -> [WorkflowStep] {
        var steps: [WorkflowStep] = [
            .record(kind: "trials.started", subject: "trials", fields: [.init("seeds", self.seeds.map(String.init).joined(separator: ","))])
        ]
        for seed in self.seeds {
            var hyperparameters = self.hyperparameters
            hyperparameters.seed = seed
            let request = ComputeRequest.train(
                TrainRequest(
                    architecture: self.architecture, classLabels: self.classLabels, hyperparameters: hyperparameters,
                    data: .inline(self.train)))
            // The cost model: a fixed simulated time per epoch; seeds finish at distinct times.
            let duration = UInt64(hyperparameters.epochs) * 10_000 + seed
            steps.append(
                .schedule(
                    TaskSpec(id: Self.trainTask(seed), role: .compute, work: request.work, input: request.encoded(), duration: duration),
                    at: .zero))
        }
        return steps
    }

    mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep] {
        self.outputs[task.id.rawValue] = output
        let parts = task.id.rawValue.split(separator: "/")
        let seed = UInt64(parts[1])!
        switch (parts[2], try? ComputeResponse(decoding: output)) {
        case ("train", .trained(let trained)?):
            let request = ComputeRequest.evaluate(EvaluateRequest(model: .inline(trained.weights), data: .inline(self.test)))
            return [
                .schedule(
                    TaskSpec(id: Self.evaluateTask(seed), role: .compute, work: request.work, input: request.encoded(), duration: 2_000),
                    at: at)
            ]
        case ("evaluate", .evaluated(let evaluation)?):
            self.evaluations[seed] = evaluation
            return [
                .record(
                    kind: "trial.evaluated", subject: "trial/\(seed)",
                    fields: [.init("accuracy", String(evaluation.accuracy)), .init("macroF1", String(evaluation.macroF1))])
            ] + self.finishIfDone()
        default:
            self.failures[task.id.rawValue] = "unexpected output"
            return self.finishIfDone()
        }
    }

    mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep] {
        self.failures[task.id.rawValue] = reason
        return self.finishIfDone()
    }

    mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep] { [] }

    func audit() -> WorkflowAudit {
        WorkflowAudit(
            expectedTasks: 2 * self.seeds.count, verified: self.evaluations.count,
            mismatched: self.seeds.count - self.evaluations.count)
    }

    private func finishIfDone() -> [WorkflowStep] {
        let ended = self.evaluations.count + Set(self.failures.keys.map { $0.split(separator: "/")[1] }).count
        return ended == self.seeds.count ? [.finish] : []
    }
}
