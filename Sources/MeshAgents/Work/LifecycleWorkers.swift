public import MeshCore

/// A worker whose works each turn a JSON request into a JSON result with a pure function of
/// MeshCore: the use case, model and oversight agents.
public struct RecordWorker: Worker {
    private let handlers: [String: @Sendable ([UInt8], TaskID) throws(WireError) -> [UInt8]]

    /// Makes a worker from handlers keyed by work name.
    public init(_ handlers: [String: @Sendable ([UInt8], TaskID) throws(WireError) -> [UInt8]]) {
        self.handlers = handlers
    }

    public func canDo(_ work: String) -> Bool { self.handlers[work] != nil }

    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        guard let handler = self.handlers[assignment.work] else { return .failed("cannot do \(assignment.work)") }
        do {
            return .done(try handler(assignment.input, assignment.task))
        } catch {
            return .failed("\(assignment.work): bad request: \(error)")
        }
    }

    /// A handler that decodes `Request`, applies `body` and encodes the result.
    public static func json<Request: Decodable, Response: Encodable>(
        _ request: Request.Type, _ body: @escaping @Sendable (Request, TaskID) -> Response
    ) -> @Sendable ([UInt8], TaskID) throws(WireError) -> [UInt8] {
        { bytes, task throws(WireError) in
            CanonicalJSON.encode(body(try CanonicalJSON.decode(Request.self, from: bytes, what: "\(Request.self)"), task))
        }
    }
}

extension RecordWorker {
    /// The use case agent's worker.
    public static var useCase: RecordWorker {
        RecordWorker([
            LifecycleWork.intake: json(UseCaseSpec.self) { spec, _ in spec },
            LifecycleWork.feasibility: json(FeasibilityRequest.self) { request, _ in FeasibilityCheck.evaluate(request) },
        ])
    }

    /// The model agent's worker.
    public static var model: RecordWorker {
        RecordWorker([
            LifecycleWork.select: json(SelectionRequest.self) { request, _ in ModelSelection.plan(request) },
            LifecycleWork.rung: json(RungRequest.self) { request, _ in SuccessiveHalving.decide(request) },
            LifecycleWork.register: json(RegistrationRequest.self) { request, _ in ModelRegistration.register(request) },
        ])
    }

    /// The oversight agent's worker: the scenario's scripted human.
    public static var oversight: RecordWorker {
        RecordWorker([
            LifecycleWork.gate: json(GateRequest.self) { request, task in ScriptedHuman.decide(request, task: task) }
        ])
    }
}
