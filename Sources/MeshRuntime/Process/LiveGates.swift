import Foundation
public import MeshAgents
public import MeshCore

/// The gates a person decides, as files in one directory (`runs/<id>/gates/` under `meshwork
/// up`): the oversight agent writes `<ID>.json` for each gate it waits on and polls for
/// `<ID>.decision.json`, which `meshwork approve` / `meshwork reject` write atomically; a decided
/// gate's request is renamed `<ID>.done.json`. ID is the task id with `/` as `.`
/// (`uc.digits-classifier.gate-promotion`).
///
/// ```swift
/// let gates = LiveGates(directory: "runs/default-…/gates")
/// for gate in try gates.pending() { print(gate.id, gate.request.gate, gate.request.evidence) }
/// try gates.decide(id, GateDecision(approved: true, who: "alice", reason: "looks good"))
/// ```
public struct LiveGates: Sendable {
    /// A gate waiting for a person.
    public struct Pending: Codable, Sendable, Equatable {
        public var id: String
        public var task: String
        public var request: GateRequest
    }

    /// The directory.
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The id of the gate of `task`.
    public static func id(of task: TaskID) -> String { task.rawValue.replacingOccurrences(of: "/", with: ".") }

    /// Gates waiting for a decision, by id.
    public func pending() throws -> [Pending] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.directory)) ?? []
        return try names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".decision.json") && !$0.hasSuffix(".done.json") }
            .sorted()
            .compactMap { name in
                let id = String(name.dropLast(".json".count))
                guard !FileManager.default.fileExists(atPath: self.path(id, ".decision.json")) else { return nil }
                let data = try Data(contentsOf: URL(fileURLWithPath: self.path(id, ".json")))
                return try JSONDecoder().decode(Pending.self, from: data)
            }
    }

    /// Records a person's decision on gate `id`.
    ///
    /// - Throws: ``RuntimeError`` `.usage` when no gate `id` is waiting (naming those that are).
    public func decide(_ id: String, _ decision: GateDecision) throws {
        guard FileManager.default.fileExists(atPath: self.path(id, ".json")),
            !FileManager.default.fileExists(atPath: self.path(id, ".decision.json"))
        else {
            let waiting = ((try? self.pending()) ?? []).map(\.id)
            throw RuntimeError(
                .usage,
                "no gate \(id) is waiting in \(self.directory)"
                    + (waiting.isEmpty ? " (none is)" : "; waiting: " + waiting.joined(separator: ", ")))
        }
        try Self.writeAtomically(try JSONEncoder().encode(decision), to: self.path(id, ".decision.json"))
    }

    /// Asks: writes the pending gate, waits (polling) for its decision until `timeout`, and
    /// returns it, or nil at the timeout.
    func ask(_ request: GateRequest, task: TaskID, timeout: Duration) async throws -> GateDecision? {
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let id = Self.id(of: task)
        let decisionPath = self.path(id, ".decision.json")
        if !FileManager.default.fileExists(atPath: decisionPath) {
            try Self.writeAtomically(
                try JSONEncoder().encode(Pending(id: id, task: task.rawValue, request: request)), to: self.path(id, ".json"))
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let data = FileManager.default.contents(atPath: decisionPath) {
                let decision = try JSONDecoder().decode(GateDecision.self, from: data)
                try? FileManager.default.moveItem(atPath: self.path(id, ".json"), toPath: self.path(id, ".done.json"))
                return decision
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    func path(_ id: String, _ suffix: String) -> String { self.directory + "/" + id + suffix }

    /// Writes through a temporary file and a rename, so a reader never sees half a file.
    static func writeAtomically(_ data: Data, to path: String) throws {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// The oversight agent's worker: the scripted human, or — when the scenario's human policy is
/// `live` — a person through ``LiveGates`` in `MESHWORK_GATES_DIR`.
public struct OversightWorker: Worker {
    private let scripted = RecordWorker.oversight
    /// Where live gates wait, or nil.
    public let gates: LiveGates?

    /// A worker whose live gates wait in `gatesDirectory`, by default `MESHWORK_GATES_DIR`.
    public init(gatesDirectory: String? = nil) {
        let directory = gatesDirectory ?? ProcessInfo.processInfo.environment["MESHWORK_GATES_DIR"]
        self.gates = directory.map(LiveGates.init(directory:))
    }

    public func canDo(_ work: String) -> Bool { work == LifecycleWork.gate }

    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        guard let request = try? CanonicalJSON.decode(GateRequest.self, from: assignment.input, what: "gate request"),
            request.policy.live
        else { return await self.scripted.perform(assignment) }
        guard let gates = self.gates else {
            return .failed("noGates: the human is live but this oversight agent has no MESHWORK_GATES_DIR")
        }
        do {
            let timeout = Duration.milliseconds(Int64(request.policy.liveTimeoutSeconds * 1000))
            let decision = try await gates.ask(request, task: assignment.task, timeout: timeout)
                ?? ScriptedHuman.escalate(request, after: "\(Int(request.policy.liveTimeoutSeconds)) s")
            return .done(CanonicalJSON.encode(decision))
        } catch {
            return .failed("gates: \(error)")
        }
    }
}
