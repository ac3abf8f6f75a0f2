/// The works of the lifecycle's record-keeping agents.
public enum LifecycleWork {
    /// Use case agent: register a use case from its template.
    public static let intake = "usecase.intake"
    /// Use case agent: check feasibility.
    public static let feasibility = "usecase.feasibility"
    /// Model agent: choose architectures and plan the search.
    public static let select = "model.select"
    /// Model agent: prune a rung of the search.
    public static let rung = "model.rung"
    /// Model agent: register the winning model with its lineage.
    public static let register = "model.register"
    /// Oversight agent: a human decision at a gate.
    public static let gate = "oversight.gate"
}
