public import MeshCore

/// The compute node's worker: decodes a `compute.*` task's input as a ``ComputeRequest``, has an
/// injected ``ComputePort`` do it, and returns the encoded ``ComputeResponse``.
///
/// A request that does not decode, names another operation than the task's work, or that the
/// port refuses is answered `.failed` with the failure's reported reason
/// (``ComputeFailure/reportedReason``: `CODE: SUBJECT[, LOCATION]: REASON`); the worker keeps
/// serving. It knows no backend: the runtime injects the port (MeshCompute's `ComputeNode`).
///
/// ```swift
/// let worker = CompositeWorker([RelayWorker(), ComputeWorker(port: ComputeNode())])
/// ```
public struct ComputeWorker: Worker {
    private let port: any ComputePort

    /// A worker serving `port`.
    public init(port: any ComputePort) {
        self.port = port
    }

    /// True for the work names of ``ComputeOperation`` (`compute.train`, …).
    public func canDo(_ work: String) -> Bool { ComputeOperation(work: work) != nil }

    /// Decodes, performs, encodes; every failure becomes `.failed` with its reason.
    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        switch await self.respond(to: assignment) {
        case .success(let bytes): .done(bytes)
        case .failure(let failure): .failed(failure.reportedReason)
        }
    }

    /// The response bytes for `assignment`, or why there are none.
    public func respond(to assignment: Assignment) async -> Result<[UInt8], ComputeFailure> {
        let request: ComputeRequest
        do {
            request = try ComputeRequest(decoding: assignment.input)
        } catch {
            return .failure(ComputeFailure(malformed: error))
        }
        guard request.work == assignment.work else {
            return .failure(
                ComputeFailure(
                    .malformedRequest,
                    "request",
                    "the task's work is \(assignment.work) but the request is \(request.work)"
                )
            )
        }
        do {
            let bytes = try await self.port.perform(request).encoded()
            guard bytes.count <= ComputeLimits.maximumPayloadBytes else {
                return .failure(
                    ComputeFailure(
                        .responseTooLarge,
                        "\(request.work) response",
                        "\(bytes.count) bytes, a task result carries at most \(ComputeLimits.maximumPayloadBytes)"
                    )
                )
            }
            return .success(bytes)
        } catch {
            return .failure(error)
        }
    }
}
