import Foundation
import MeshCore
import GRDB

/// A run as a person wants to see it (`meshwork status`): what ran, whether it still runs, its
/// digest, its agents and their health, hand-offs, use cases and recent alerts.
public struct RunStatus: Sendable, Codable, Equatable {
    /// Whether the run is going on.
    public enum State: String, Sendable, Codable {
        /// A writer holds the run (the coordinator is alive).
        case running
        /// The run recorded its end and final digest.
        case finished
        /// No writer holds it and it never recorded its end: the coordinator died (resumable).
        case interrupted
    }

    /// One incarnation of an agent.
    public struct Agent: Sendable, Codable, Equatable {
        public var id: String
        public var incarnation: Int64
        public var role: String
        public var pid: Int64?
        public var host: String?
        public var joinedAt: String
        public var departedAt: String?
        /// Why it departed (`left`, `died`, `restarted`), when it did.
        public var departure: String?
        /// The wall time of the last physical event about it.
        public var lastSeen: String?
        /// `up`, `departed (…)`, or `unknown` when the run is not running.
        public var health: String
    }

    /// Hand-offs (negotiated tasks).
    public struct Handoffs: Sendable, Codable, Equatable {
        /// Tasks committed as done.
        public var done: Int
        /// Tasks committed as failed for good.
        public var failed: Int
        /// Tasks awarded (physical journal) with no committed result yet.
        public var inFlight: Int
        /// Result records beyond one per task (a correct run has none).
        public var duplicates: Int
    }

    /// A use case and its stage.
    public struct UseCaseStage: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var stage: String
    }

    public var runID: String
    public var scenario: String
    public var seed: UInt64
    public var state: State
    public var startedAt: String
    public var endedAt: String?
    /// The final digest when finished, else the digest after the last stored record.
    public var digest: String?
    /// Logical records stored.
    public var records: UInt64
    public var writerPID: Int32?
    public var writerHost: String?
    public var agents: [Agent]
    public var handoffs: Handoffs
    public var useCases: [UseCaseStage]
    /// The most recent alerts, newest first.
    public var alerts: [Alert]
}

extension RunStore {
    /// The run's status, read in one snapshot; works while the writer runs.
    public func status(alertLimit: Int = 5) throws(StoreError) -> RunStatus {
        let lockHeld = FileIO.isLockedByAnother(self.databasePath + "-writer")
        let path = self.databasePath
        return try self.read("cannot read the run's status") { db in
            guard let run = try Row.fetchOne(db, sql: "SELECT * FROM run LIMIT 1") else {
                throw StoreError(.corrupt, path: path, "the run table is empty")
            }
            let ended: String? = run["ended_at"]
            let state: RunStatus.State = ended != nil ? .finished : (lockHeld ? .running : .interrupted)
            let head = try Row.fetchOne(db, sql: "SELECT position, digest FROM logical_journal ORDER BY position DESC LIMIT 1")
            let records = head.map { UInt64(($0["position"] as Int64) + 1) } ?? 0
            let lastDigest = head.map { "sha256:" + ($0["digest"] as String) }

            var agents: [RunStatus.Agent] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY agent_id, incarnation") {
                let id: String = row["agent_id"]
                let incarnation: Int64 = row["incarnation"]
                let departure: String? = row["departure"]
                let lastSeen = try String.fetchOne(
                    db, sql: "SELECT wall_at FROM physical_journal WHERE agent = ? ORDER BY id DESC LIMIT 1",
                    arguments: ["\(id)#\(incarnation)"])
                let health = departure.map { "departed (\($0))" } ?? (state == .running ? "up" : "unknown")
                agents.append(
                    RunStatus.Agent(
                        id: id, incarnation: incarnation, role: row["role"], pid: row["pid"], host: row["host"],
                        joinedAt: row["joined_at"], departedAt: row["departed_at"], departure: departure, lastSeen: lastSeen,
                        health: health))
            }

            let done = try Int.fetchOne(db, sql: "SELECT count(*) FROM task_results WHERE status = 'done'") ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT count(*) FROM task_results WHERE status = 'failed'") ?? 0
            let duplicates = try Int.fetchOne(db, sql: "SELECT coalesce(sum(duplicates), 0) FROM task_results") ?? 0
            let inFlight = try Int.fetchOne(
                db,
                sql: """
                    SELECT count(DISTINCT task) FROM physical_journal
                    WHERE kind = 'award' AND task NOT IN (SELECT task FROM task_results)
                    """) ?? 0
            let useCases = try Row.fetchAll(db, sql: "SELECT id, name, stage FROM use_cases ORDER BY id").map {
                RunStatus.UseCaseStage(id: $0["id"], name: $0["name"], stage: $0["stage"])
            }
            let alerts = try Row.fetchAll(
                db, sql: "SELECT * FROM alerts ORDER BY since_us DESC, id DESC LIMIT ?", arguments: [alertLimit]
            ).map(RunStore.alert(from:))
            return RunStatus(
                runID: run["id"], scenario: run["scenario"], seed: UInt64(run["seed"] as String) ?? 0, state: state,
                startedAt: run["started_at"], endedAt: ended, digest: (run["final_digest"] as String?) ?? lastDigest,
                records: records, writerPID: run["writer_pid"], writerHost: run["writer_host"], agents: agents,
                handoffs: RunStatus.Handoffs(done: done, failed: failed, inFlight: inFlight, duplicates: duplicates),
                useCases: useCases, alerts: alerts)
        }
    }
}
