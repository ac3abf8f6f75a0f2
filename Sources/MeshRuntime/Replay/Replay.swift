import Foundation
public import Logging
public import MeshAgents
public import MeshCore
import MeshServer
import MeshStore
import Yams

/// `meshwork replay runs/<id>`: re-executes a recorded run against the current code in one
/// process — the same workflow, seed and scenario, every task done again by the real workers —
/// and compares the logical journal record by record with the recorded one.
///
/// Human decisions of a live mesh (`human.live`) are fed from the journal, not asked again; a
/// scripted human decides again (it is a pure function of the seed). With `overrides`
/// (`--set workflow.lifecycle.monitoring.rule.min_ks_features=30`) the run is a what-if: the
/// first record the change affects is reported as the divergence, and both outcomes are given.
///
/// ```swift
/// let result = try await Replay.run(runDirectory: "runs/default-…", logger: logger)
/// result.divergence == nil   // "no divergence"
/// ```
public enum Replay {
    /// The first record that differs.
    public struct Divergence: Codable, Sendable, Equatable {
        /// Its position in the journal, from 0.
        public var index: Int
        /// Its simulated time (of the recorded record, else the replayed one).
        public var simTime: String
        /// The role of the agent whose task it is (or that the workflow acted on), if known.
        public var agent: String?
        /// The recorded record and the replayed one (nil past an end).
        public var expected: LogicalRecord?
        public var actual: LogicalRecord?
        /// The hand-offs that led there: the last tasks committed before it, oldest first.
        public var chain: [String]
    }

    /// What the replay found.
    public struct Result: Codable, Sendable {
        public var runDirectory: String
        /// The replayed digest and the recorded one.
        public var digest: String
        public var recordedDigest: String
        public var records: Int
        public var recordedRecords: Int
        public var divergence: Divergence?
        /// The overrides of a what-if.
        public var overrides: [String: String]
        /// How each use case ended in the replay, and in the recorded run.
        public var useCases: [UseCaseOutcome]
        public var recordedUseCases: [UseCaseOutcome]

        public enum CodingKeys: String, CodingKey {
            case digest, records, divergence, overrides
            case runDirectory = "run_dir"
            case recordedDigest = "recorded_digest"
            case recordedRecords = "recorded_records"
            case useCases = "use_cases"
            case recordedUseCases = "recorded_use_cases"
        }

        /// As synthesized, except that no divergence is written as `"divergence": null`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.runDirectory, forKey: .runDirectory)
            try container.encode(self.digest, forKey: .digest)
            try container.encode(self.recordedDigest, forKey: .recordedDigest)
            try container.encode(self.records, forKey: .records)
            try container.encode(self.recordedRecords, forKey: .recordedRecords)
            try container.encode(self.divergence, forKey: .divergence)
            try container.encode(self.overrides, forKey: .overrides)
            try container.encode(self.useCases, forKey: .useCases)
            try container.encode(self.recordedUseCases, forKey: .recordedUseCases)
        }
    }

    /// Replays the run in `runDirectory` (paths in its scenario are relative to the working
    /// directory, as when it ran).
    public static func run(runDirectory: String, overrides: [String: String] = [:], logger: Logger) async throws -> Result {
        let run = try RunDirectory(existing: runDirectory)
        let text: String
        do {
            text = try String(contentsOfFile: run.scenarioPath, encoding: .utf8)
        } catch {
            throw RuntimeError(.runDirectory, "\(run.scenarioPath): cannot read the recorded scenario: \(error)")
        }
        let scenarioText = overrides.isEmpty ? text : try Self.apply(overrides, to: text, file: run.scenarioPath)
        var scenario = try ScenarioLoader.parse(scenarioText, file: run.scenarioPath)
        if case .lifecycle(let files) = scenario.workflow { scenario.lifecycle = try ScenarioLoader.resolve(files) }
        let store = try RunStore.openReadOnly(at: runDirectory)
        defer { try? store.close() }
        let recorded = try store.readJournal()
        var recordedOutputs: [String: [UInt8]] = [:]
        for entry in recorded.entries where entry.record.kind == "task.done" {
            if let payload = entry.payload { recordedOutputs[entry.record.subject] = payload }
        }
        let (records, digest, useCases) = try await Self.reexecute(scenario, recordedOutputs: recordedOutputs, logger: logger)
        let expected = recorded.entries.map(\.record)
        let recordedUseCases = Self.recordedOutcomes(runDirectory)
        return Result(
            runDirectory: runDirectory, digest: digest, recordedDigest: recorded.recomputed.text, records: records.count,
            recordedRecords: expected.count, divergence: Self.firstDivergence(expected: expected, actual: records),
            overrides: overrides, useCases: useCases, recordedUseCases: recordedUseCases)
    }

    /// Runs `scenario` (its lifecycle files resolved) to its end in this process with the real
    /// workers and returns the logical records, their digest and the use cases' outcomes; a
    /// live human's decisions come from `recordedOutputs` (task id → output).
    public static func reexecute(
        _ scenario: Scenario, recordedOutputs: [String: [UInt8]] = [:], logger: Logger
    ) async throws -> (records: [LogicalRecord], digest: String, useCases: [UseCaseOutcome]) {
        try await scenario.withWorkflow(Consumer(recordedOutputs: recordedOutputs, logger: logger))
    }

    /// The first position where the two journals differ, with the hand-offs before it.
    public static func firstDivergence(expected: [LogicalRecord], actual: [LogicalRecord]) -> Divergence? {
        let count = max(expected.count, actual.count)
        for index in 0..<count {
            let left = index < expected.count ? expected[index] : nil
            let right = index < actual.count ? actual[index] : nil
            guard left != right else { continue }
            let chain = expected.prefix(index).filter { $0.kind == "task.done" || $0.kind == "task.failed" }.suffix(5)
                .map { "\($0.subject) (\($0.field("work") ?? $0.kind))" }
            let record = left ?? right
            return Divergence(
                index: index, simTime: record.map { SimClock.iso8601($0.time) } ?? "", agent: record?.field("role"),
                expected: left, actual: right, chain: chain)
        }
        return nil
    }

    /// `summary.json`'s use cases, if the run wrote one.
    static func recordedOutcomes(_ runDirectory: String) -> [UseCaseOutcome] {
        struct Summary: Decodable {
            var useCases: [UseCaseOutcome]?
            enum CodingKeys: String, CodingKey { case useCases = "use_cases" }
        }
        guard let data = FileManager.default.contents(atPath: runDirectory + "/summary.json"),
            let summary = try? JSONDecoder().decode(Summary.self, from: data)
        else { return [] }
        return summary.useCases ?? []
    }

    /// The scenario text with `path=value` overrides applied (`a.b.c`, creating maps as needed);
    /// values are read as YAML scalars (numbers, booleans, strings).
    static func apply(_ overrides: [String: String], to text: String, file: String) throws -> String {
        guard var root = try Yams.load(yaml: text) as? [String: Any] else {
            throw RuntimeError(.usage, "\(file): not a mapping; cannot apply --set")
        }
        for (path, value) in overrides.sorted(by: { $0.key < $1.key }) {
            let keys = path.split(separator: ".").map(String.init)
            guard !keys.isEmpty else { throw RuntimeError(.usage, "--set \(path)=\(value): an empty path") }
            let parsed: Any = (try? Yams.load(yaml: value)).flatMap { $0 } ?? value
            root = Self.setting(parsed, at: keys[...], in: root)
        }
        return try Yams.dump(object: root)
    }

    private static func setting(_ value: Any, at keys: ArraySlice<String>, in map: [String: Any]) -> [String: Any] {
        var map = map
        guard let key = keys.first else { return map }
        if keys.count == 1 {
            map[key] = value
        } else {
            map[key] = Self.setting(value, at: keys.dropFirst(), in: map[key] as? [String: Any] ?? [:])
        }
        return map
    }

    private struct Consumer: WorkflowConsumer {
        let recordedOutputs: [String: [UInt8]]
        let logger: Logger

        func consume<W: Workflow>(_ workflow: W) async throws -> ([LogicalRecord], String, [UseCaseOutcome]) {
            let pipeline = PipelineWorker(logger: self.logger)
            let url = try await pipeline.start()
            defer { Task { await pipeline.stop() } }
            var workers: [Role: any Worker] = [:]
            for role in Role.agentRoles {
                switch role {
                case .pipeline: workers[role] = CompositeWorker([RelayWorker(), pipeline])
                case .monitoring: workers[role] = CompositeWorker([RelayWorker(), MonitoringWorker(fallbackInference: url)])
                default: workers[role] = AgentProcess.worker(for: role)
                }
            }
            let recorded = self.recordedOutputs
            let local = await Orchestrator.runLocally(workflow) { spec in
                // A live human's decision comes from the journal.
                if spec.work == LifecycleWork.gate, let output = recorded[spec.id.rawValue],
                    let request = try? CanonicalJSON.decode(GateRequest.self, from: spec.input, what: "gate"), request.policy.live
                {
                    return .done(output)
                }
                guard let worker = workers[spec.role] else { return .failed("no worker for \(spec.role.rawValue)") }
                switch await worker.perform(Assignment(task: spec.id, work: spec.work, input: spec.input, simTime: .zero)) {
                case .done(let bytes): return .done(bytes)
                case .failed(let reason): return .failed(reason)
                }
            }
            return (local.records, local.digest.text, local.workflow.audit().useCases)
        }
    }
}
