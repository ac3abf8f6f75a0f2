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
        let records: [LogicalRecord]
        let useCases: [UseCaseOutcome]
        if overrides.isEmpty, let parentage = Self.parentage(of: runDirectory) {
            // A what-if branch: its parent's settings up to the branch record, its own after.
            let parentText: String
            do {
                parentText = try String(contentsOfFile: runDirectory + "/parent-scenario.yaml", encoding: .utf8)
            } catch {
                throw RuntimeError(.runDirectory, "\(runDirectory)/parent-scenario.yaml: cannot read the branch's parent scenario: \(error)")
            }
            guard parentage.branchRecord <= recorded.entries.count else {
                throw RuntimeError(.journal, "\(runDirectory): parent.json branches at record \(parentage.branchRecord), past the journal's end")
            }
            (records, _, useCases) = try await Self.continueBranch(
                parentText: parentText, branchText: text, prefix: Array(recorded.entries[..<parentage.branchRecord]),
                file: run.scenarioPath, logger: logger)
        } else {
            (records, _, useCases) = try await Self.reexecute(scenario, recordedOutputs: recordedOutputs, logger: logger)
        }
        var replayed = JournalDigest()
        for record in records { replayed.append(record) }
        let digest = replayed.text
        let expected = recorded.entries.map(\.record)
        let recordedUseCases = Self.recordedOutcomes(runDirectory)
        return Result(
            runDirectory: runDirectory, digest: digest, recordedDigest: recorded.recomputed.text, records: records.count,
            recordedRecords: expected.count, divergence: Self.firstDivergence(expected: expected, actual: records),
            overrides: overrides, useCases: useCases, recordedUseCases: recordedUseCases)
    }

    /// Runs `scenario` (its lifecycle files resolved) to its end in this process with the real
    /// workers and returns the logical records, their digest and the use cases' outcomes; a
    /// live human's decisions come from `recordedOutputs` (task id → output). `replacing` puts
    /// other workers in some roles' place (a changed rule, in tests).
    public static func reexecute(
        _ scenario: Scenario, recordedOutputs: [String: [UInt8]] = [:], replacing: [Role: any Worker] = [:], logger: Logger
    ) async throws -> (records: [LogicalRecord], digest: String, useCases: [UseCaseOutcome]) {
        try await scenario.withWorkflow(Consumer(recordedOutputs: recordedOutputs, replacing: replacing, logger: logger))
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

    /// A branch's `parent.json`, if the run is a what-if branch.
    static func parentage(of runDirectory: String) -> Parentage? {
        guard let data = FileManager.default.contents(atPath: runDirectory + "/parent.json") else { return nil }
        return try? JSONDecoder().decode(Parentage.self, from: data)
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

    /// The real workers of every role in this process (a pipeline agent's API on loopback),
    /// with a live human's decisions taken from the journal.
    struct Executor: Sendable {
        let workers: [Role: any Worker]
        let recordedOutputs: [String: [UInt8]]
        let pipeline: PipelineWorker

        static func start(recordedOutputs: [String: [UInt8]], replacing: [Role: any Worker] = [:], logger: Logger) async throws -> Executor {
            let pipeline = PipelineWorker(logger: logger)
            let url = try await pipeline.start()
            var workers: [Role: any Worker] = [:]
            for role in Role.agentRoles {
                switch role {
                case .pipeline: workers[role] = CompositeWorker([RelayWorker(), pipeline])
                case .monitoring: workers[role] = CompositeWorker([RelayWorker(), MonitoringWorker(fallbackInference: url)])
                default: workers[role] = AgentProcess.worker(for: role)
                }
            }
            workers.merge(replacing) { _, replacement in replacement }
            return Executor(workers: workers, recordedOutputs: recordedOutputs, pipeline: pipeline)
        }

        func stop() async { await self.pipeline.stop() }

        func perform<W: Workflow>(_ spec: TaskSpec, as: W.Type) async -> Orchestrator<W>.Outcome {
            // A live human's decision comes from the journal.
            if spec.work == LifecycleWork.gate, let output = self.recordedOutputs[spec.id.rawValue],
                let request = try? CanonicalJSON.decode(GateRequest.self, from: spec.input, what: "gate"), request.policy.live
            {
                return .done(output)
            }
            guard let worker = self.workers[spec.role] else { return .failed("no worker for \(spec.role.rawValue)") }
            switch await worker.perform(Assignment(task: spec.id, work: spec.work, input: spec.input, simTime: .zero)) {
            case .done(let bytes): return .done(bytes)
            case .failed(let reason): return .failed(reason)
            }
        }
    }

    private struct Consumer: WorkflowConsumer {
        let recordedOutputs: [String: [UInt8]]
        let replacing: [Role: any Worker]
        let logger: Logger

        func consume<W: Workflow>(_ workflow: W) async throws -> ([LogicalRecord], String, [UseCaseOutcome]) {
            let executor = try await Executor.start(recordedOutputs: self.recordedOutputs, replacing: self.replacing, logger: self.logger)
            let local = await Orchestrator.runLocally(workflow) { await executor.perform($0, as: W.self) }
            await executor.stop()
            return (local.records, local.digest.text, local.workflow.audit().useCases)
        }
    }
}
