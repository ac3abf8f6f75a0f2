public import MeshCore

/// Builds the workflow a scenario names and calls back with it, typed, since the coordinator is
/// generic over its workflow.
public protocol WorkflowConsumer {
    /// What the consumer returns.
    associatedtype Output
    /// Called with the scenario's workflow.
    func consume<W: Workflow>(_ workflow: W) async throws -> Output
}

extension Scenario {
    /// Makes this scenario's workflow and hands it to `consumer`.
    public func withWorkflow<C: WorkflowConsumer>(_ consumer: C) async throws -> C.Output {
        switch self.workflow {
        case .relay(let spec):
            return try await consumer.consume(RelayWorkflow(
                tokens: spec.tokens, seed: self.seed, interarrival: spec.interarrivalMicroseconds,
                durationRange: spec.durationMicroseconds))
        case .lifecycle:
            guard let resolved = self.lifecycle else {
                preconditionFailure("a lifecycle scenario must be loaded with ScenarioLoader.load, which reads its files")
            }
            return try await consumer.consume(LifecycleWorkflow(spec: resolved, seed: self.seed))
        }
    }
}
