import Foundation
public import Logging
public import MeshCore
import MeshStore

extension Replay {
    /// Where a what-if branch came from, kept in the branch's run directory as `parent.json`.
    public struct Parentage: Codable, Sendable, Equatable {
        /// The parent run's directory, as given.
        public var parent: String
        /// The record the user asked to branch from, and the one it branched at: the next task
        /// record at or after it (a workflow's state is only whole between two results).
        public var fromRecord: Int
        public var branchRecord: Int
        /// The changed settings.
        public var overrides: [String: String]

        public enum CodingKeys: String, CodingKey {
            case parent, overrides
            case fromRecord = "from_record"
            case branchRecord = "branch_record"
        }
    }

    /// What a branch produced.
    public struct BranchResult: Sendable {
        /// The comparison with the parent (its divergence is the first record the change affected).
        public var result: Result
        /// The new run's directory.
        public var runDirectory: String
        public var parentage: Parentage
    }

    /// `meshwork replay RUN --from RECORD --set PATH=VALUE`: takes the parent's journal up to
    /// `record` as it was, changes the settings there, runs forward to the horizon with the real
    /// workers, and stores the branch as a new run under `runsRoot` (its scenario, the parent's
    /// scenario as `parent-scenario.yaml`, and `parent.json`).
    public static func branch(
        runDirectory: String, from record: Int, overrides: [String: String], runsRoot: String, logger: Logger
    ) async throws -> BranchResult {
        let parent = try RunDirectory(existing: runDirectory)
        let parentText = try Self.scenarioText(of: parent)
        let branchText = overrides.isEmpty ? parentText : try Self.apply(overrides, to: parentText, file: parent.scenarioPath)
        let store = try RunStore.openReadOnly(at: runDirectory)
        let recorded = try store.readJournal()
        try? store.close()
        let entries = recorded.entries
        guard (0...entries.count).contains(record) else {
            throw RuntimeError(.usage, "--from \(record): the run has records 0 to \(entries.count - 1)")
        }
        let at = entries[record...].firstIndex { $0.record.kind == "task.done" || $0.record.kind == "task.failed" } ?? entries.count
        let parentage = Parentage(parent: runDirectory, fromRecord: record, branchRecord: at, overrides: overrides)
        let branched = try await Self.continueBranch(
            parentText: parentText, branchText: branchText, prefix: Array(entries[..<at]), file: parent.scenarioPath, logger: logger)

        // The branch is a run of its own.
        let scenario = try ScenarioLoader.parse(branchText, file: parent.scenarioPath)
        let temporary = NSTemporaryDirectory() + "meshwork-branch-\(ProcessEnvironment.pid).yaml"
        do {
            try branchText.write(toFile: temporary, atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.runDirectory, "\(temporary): cannot write the branch's scenario: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let run = try RunDirectory.create(root: runsRoot, scenario: scenario, scenarioPath: temporary)
        do {
            try parentText.write(toFile: run.path + "/parent-scenario.yaml", atomically: true, encoding: .utf8)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try encoder.encode(parentage).write(to: URL(fileURLWithPath: run.path + "/parent.json"))
        } catch {
            throw RuntimeError(.runDirectory, "\(run.path): cannot record the branch's parent: \(error.localizedDescription)")
        }
        let branchStore = try RunStore.openForCoordinator(run: run, scenario: scenario, resume: false)
        var digest = JournalDigest()
        let journal = zip(branched.records, branched.payloads).enumerated().map { index, pair in
            JournalEntry(index: UInt64(index), record: pair.0, digest: digest.append(pair.0), payload: pair.1)
        }
        try SQLiteJournal(branchStore).appendLogical(journal)
        try branchStore.finish(digest: digest.text)
        try branchStore.close()
        let summary: [String: Any] = [
            "scenario": scenario.name, "seed": scenario.seed, "digest": digest.text, "records": journal.count,
            "run_dir": run.path, "mode": "branch", "parent": runDirectory, "branch_record": at,
            "use_cases": (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(branched.useCases))) ?? [],
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        try run.writeSummary(String(decoding: json, as: UTF8.self))

        let expected = entries.map(\.record)
        let result = Result(
            runDirectory: run.path, digest: digest.text, recordedDigest: recorded.recomputed.text, records: journal.count,
            recordedRecords: expected.count, divergence: Self.firstDivergence(expected: expected, actual: branched.records),
            overrides: overrides, useCases: branched.useCases, recordedUseCases: Self.recordedOutcomes(runDirectory))
        return BranchResult(result: result, runDirectory: run.path, parentage: parentage)
    }

    /// The branch's records and payloads: `prefix` restored with the parent's settings, then the
    /// branch's settings from there to the end.
    static func continueBranch(
        parentText: String, branchText: String, prefix: [JournalEntry], file: String, logger: Logger
    ) async throws -> (records: [LogicalRecord], payloads: [[UInt8]?], useCases: [UseCaseOutcome]) {
        var parentScenario = try ScenarioLoader.parse(parentText, file: file)
        var branchScenario = try ScenarioLoader.parse(branchText, file: file)
        guard branchScenario.seed == parentScenario.seed else {
            throw RuntimeError(.usage, "a branch keeps its parent's seed (\(parentScenario.seed)); replay without --from to change it")
        }
        if case .lifecycle(let files) = parentScenario.workflow { parentScenario.lifecycle = try ScenarioLoader.resolve(files) }
        if case .lifecycle(let files) = branchScenario.workflow { branchScenario.lifecycle = try ScenarioLoader.resolve(files) }
        var outputs: [String: [UInt8]] = [:]
        for entry in prefix where entry.record.kind == "task.done" {
            if let payload = entry.payload { outputs[entry.record.subject] = payload }
        }
        return try await parentScenario.withWorkflow(
            BranchConsumer(prefix: prefix, branch: branchScenario, recordedOutputs: outputs, logger: logger))
    }

    private static func scenarioText(of run: RunDirectory) throws -> String {
        do {
            return try String(contentsOfFile: run.scenarioPath, encoding: .utf8)
        } catch {
            throw RuntimeError(.runDirectory, "\(run.scenarioPath): cannot read the recorded scenario: \(error)")
        }
    }

    private struct BranchConsumer: WorkflowConsumer {
        let prefix: [JournalEntry]
        let branch: Scenario
        let recordedOutputs: [String: [UInt8]]
        let logger: Logger

        func consume<W: Workflow>(_ workflow: W) async throws -> ([LogicalRecord], [[UInt8]?], [UseCaseOutcome]) {
            var restored: RestoredOrchestrator<W>
            do {
                restored = try Orchestrator.restore(workflow, from: self.prefix)
            } catch {
                throw RuntimeError(.journal, "cannot rebuild the run up to record \(self.prefix.count): \(error)")
            }
            guard let settings = try await self.branch.withWorkflow(SameType<W>()),
                restored.orchestrator.adoptSettings(of: settings)
            else {
                throw RuntimeError(
                    .usage, "this workflow cannot change settings mid-run (a lifecycle can, with the same use cases, catalog and zoo)")
            }
            let executor = try await Executor.start(recordedOutputs: self.recordedOutputs, logger: self.logger)
            // The agents' state (a pipeline's deployed versions) comes from the work before the
            // branch: it is done again, in commit order, and must give the recorded outputs.
            let specs = Dictionary(restored.dispatched.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for entry in self.prefix where entry.record.kind == "task.done" {
                guard let spec = specs[TaskID(unchecked: entry.record.subject)] else { continue }
                let outcome = await executor.perform(spec, as: W.self)
                guard case .done(let output) = outcome, Hex.sha256(output) == entry.record.field("output") else {
                    await executor.stop()
                    throw RuntimeError(
                        .journal,
                        "record \(entry.index) (\(entry.record.subject)) does not replay as recorded; "
                            + "run `meshwork replay` without --from to see the divergence")
                }
            }
            let local = await Orchestrator.continueLocally(
                from: restored, records: self.prefix.map(\.record), payloads: self.prefix.map(\.payload)
            ) { await executor.perform($0, as: W.self) }
            await executor.stop()
            return (local.records, local.payloads, local.workflow.audit().useCases)
        }
    }

    /// The scenario's workflow when it is a `W`.
    private struct SameType<W: Workflow>: WorkflowConsumer {
        func consume<V: Workflow>(_ workflow: V) async throws -> W? { workflow as? W }
    }
}
