/// The compute node as the agents see it: a request in, a response or a typed failure out.
///
/// MeshCompute implements it on OpenBLAS (`ComputeNode`); MeshAgents' `ComputeWorker` serves it
/// to the mesh, and a test can stand in a fake. An implementation must be deterministic — the
/// same request gives the same response bytes on the same machine, kernel and thread count —
/// must not block the cooperative pool, and must answer bad input with a failure, never a trap.
///
/// ```swift
/// let port: any ComputePort = ComputeNode()
/// let response = try await port.perform(.evaluate(EvaluateRequest(model: .inline(weights), data: .inline(rows))))
/// guard case .evaluated(let evaluation) = response else { … }
/// ```
public protocol ComputePort: Sendable {
    /// Does `request` and returns its answer.
    ///
    /// - Throws: ``ComputeFailure`` for anything about the request that cannot be done (bad
    ///   shapes, non-finite values, an unresolvable blob, a corrupt weights file); the port stays
    ///   usable for the next request.
    func perform(_ request: ComputeRequest) async throws(ComputeFailure) -> ComputeResponse
}
