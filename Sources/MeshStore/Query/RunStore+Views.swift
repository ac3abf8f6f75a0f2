public import MeshCore
import GRDB

/// Read-only projections of a run for the oversight pages and `/metrics`.
///
/// Every view is a named, typed query over the documented schema (docs/STORE.md): the tables and
/// the text of physical-event details stay inside this module. Each call reads one consistent
/// snapshot, so the views work while the run's coordinator writes.
extension RunStore {
    // MARK: - Agents

    /// An agent's latest incarnation, with what the oversight page shows about it.
    public struct AgentSummary: Sendable, Equatable {
        /// The agent id (`data-1`).
        public var id: String
        /// Its latest incarnation.
        public var incarnation: Int64
        /// Its role.
        public var role: String
        /// The OS process of its latest incarnation.
        public var pid: Int64?
        /// The host it runs on (the stored host without the services it advertises after it).
        public var host: String?
        /// Why its latest incarnation departed, nil while it has not.
        public var departure: String?
        /// Incarnations after the first.
        public var restarts: Int
        /// Wall time (ISO-8601) of the latest incarnation's last physical event.
        public var lastSeen: String?
        /// Awards the latest incarnation was given.
        public var awards: Int
    }

    /// Each agent's latest incarnation, by host, role and id.
    public func agentSummaries() throws(StoreError) -> [AgentSummary] {
        try self.read("cannot read the agents") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.agent_id, a.incarnation, a.role, a.pid, a.host, a.departure,
                        (SELECT count(*) FROM agents b WHERE b.agent_id = a.agent_id) AS incarnations,
                        (SELECT max(p.wall_at) FROM physical_journal p WHERE p.agent = a.agent_id || '#' || a.incarnation) AS last_seen,
                        (SELECT count(*) FROM physical_journal p
                            WHERE p.agent = a.agent_id || '#' || a.incarnation AND p.kind = 'award') AS awards
                    FROM agents a
                    WHERE a.incarnation = (SELECT max(c.incarnation) FROM agents c WHERE c.agent_id = a.agent_id)
                    ORDER BY a.host, a.role, a.agent_id
                    """
            ).map { row in
                AgentSummary(
                    id: row["agent_id"], incarnation: row["incarnation"], role: row["role"], pid: row["pid"],
                    host: Self.hostName(row["host"]), departure: row["departure"],
                    restarts: max(0, (row["incarnations"] as Int) - 1), lastSeen: row["last_seen"], awards: row["awards"])
            }
        }
    }

    /// The stored host may carry the agent's advertised services after it (`vm inference=…`).
    static func hostName(_ stored: String?) -> String? {
        stored.map { $0.split(separator: " ").first.map(String.init) ?? "" }
    }

    /// The roles of the agents that joined, sorted.
    public func roles() throws(StoreError) -> [String] {
        try self.read("cannot read the roles") { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT role FROM agents ORDER BY role")
        }
    }

    // MARK: - Hand-offs

    /// The committed hand-offs of one stage (the step a task ran).
    public struct StageTally: Sendable, Equatable {
        /// The stage (the work).
        public var stage: String
        /// Hand-offs that finished with a result.
        public var done: Int
        /// Hand-offs that failed.
        public var failed: Int
        /// Results delivered again after the first (deduplicated, never applied twice).
        public var duplicates: Int
    }

    /// The committed hand-offs by stage, sorted by stage.
    public func handoffsByStage() throws(StoreError) -> [StageTally] {
        try self.read("cannot read the hand-offs") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT step, sum(status = 'done') AS done, sum(status = 'failed') AS failed, sum(duplicates) AS dup
                    FROM task_results GROUP BY step ORDER BY step
                    """
            ).map { StageTally(stage: $0["step"], done: $0["done"], failed: $0["failed"], duplicates: $0["dup"]) }
        }
    }

    /// A hand-off awarded and not yet committed.
    public struct InFlightAward: Sendable, Equatable {
        /// The task.
        public var task: String
        /// The incarnation it was awarded to (`id#incarnation`).
        public var agent: String
        /// The award's detail (`award=N …`).
        public var award: String
        /// Wall time (ISO-8601) of the award.
        public var awardedAt: String
    }

    /// The latest award of every task with no committed result, oldest first.
    public func inFlightAwards() throws(StoreError) -> [InFlightAward] {
        try self.read("cannot read the awards in flight") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT p.task, p.agent, p.wall_at, p.detail FROM physical_journal p
                    WHERE p.kind = 'award' AND p.task NOT IN (SELECT task FROM task_results)
                        AND p.id = (SELECT max(q.id) FROM physical_journal q WHERE q.kind = 'award' AND q.task = p.task)
                    ORDER BY p.id
                    """
            ).map { InFlightAward(task: $0["task"], agent: $0["agent"], award: $0["detail"], awardedAt: $0["wall_at"]) }
        }
    }

    /// Tasks awarded and not yet committed, counted by the awardee's role (`unknown` for an
    /// incarnation that never joined).
    public func inFlightByRole() throws(StoreError) -> [(role: String, count: Int)] {
        try self.read("cannot read the awards in flight") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT coalesce(g.role, 'unknown') AS role, count(DISTINCT p.task) AS n FROM physical_journal p
                    LEFT JOIN agents g ON p.agent = g.agent_id || '#' || g.incarnation
                    WHERE p.kind = 'award' AND p.task NOT IN (SELECT task FROM task_results) GROUP BY role ORDER BY role
                    """
            ).map { (role: $0["role"], count: $0["n"]) }
        }
    }

    /// Wall nanoseconds from each award to its result, with the stage of the task (`in-flight`
    /// while it has no committed result).
    public func awardToResultLatencies() throws(StoreError) -> [(stage: String, nanoseconds: Int64)] {
        try self.read("cannot read the negotiation latencies") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT coalesce((SELECT t.step FROM task_results t WHERE t.task = a.task LIMIT 1), 'in-flight') AS stage,
                        (r.monotonic_ns - a.monotonic_ns) AS ns
                    FROM physical_journal a JOIN physical_journal r
                        ON r.kind = 'result' AND r.task = a.task AND r.detail = a.detail AND r.agent = a.agent
                    WHERE a.kind = 'award'
                    """
            ).map { (stage: $0["stage"], nanoseconds: max(0, $0["ns"] as Int64)) }
        }
    }

    /// Awards after a task's first (a negotiation retried after a refusal, a timeout or a death).
    public func reawardCount() throws(StoreError) -> Int {
        try self.read("cannot count the re-awards") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM physical_journal WHERE kind = 'award' AND detail != 'award=1'") ?? 0
        }
    }

    /// Results that arrived for a superseded award (fenced off, never applied).
    public func staleResultCount() throws(StoreError) -> Int {
        try self.read("cannot count the stale results") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM physical_journal WHERE kind LIKE 'stale%'") ?? 0
        }
    }

    // MARK: - Reliable streams

    /// What the coordinator's reliable streams to one agent did, over all its incarnations.
    public struct LinkTotals: Sendable, Equatable {
        /// The agent id.
        public var agent: String
        /// Messages sent again.
        public var retransmitted: Int
        /// Messages received twice and dropped.
        public var duplicatesDropped: Int
    }

    /// The coordinator's `link` events (`sent=… retransmitted=… duplicates=…`), the latest of
    /// each incarnation summed per agent, sorted by agent.
    public func linkTotals() throws(StoreError) -> [LinkTotals] {
        var latest: [String: (retransmitted: Int, duplicates: Int)] = [:]
        for event in try self.physicalEvents(kind: "link") {
            let fields = Self.counters(in: event.detail)
            latest[event.agent] = (fields["retransmitted"] ?? 0, fields["duplicates"] ?? 0)
        }
        var perAgent: [String: LinkTotals] = [:]
        for (incarnation, counts) in latest {
            let agent = SQLiteJournal.splitAgent(incarnation)?.id ?? incarnation
            perAgent[agent, default: LinkTotals(agent: agent, retransmitted: 0, duplicatesDropped: 0)].retransmitted += counts.retransmitted
            perAgent[agent]!.duplicatesDropped += counts.duplicates
        }
        return perAgent.keys.sorted().map { perAgent[$0]! }
    }

    /// The `name=integer` counters of a physical event's detail.
    static func counters(in detail: String) -> [String: Int] {
        Dictionary(
            detail.split(separator: " ").compactMap { pair -> (String, Int)? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                return (String(parts[0]), value)
            }, uniquingKeysWith: { _, last in last })
    }

    // MARK: - The journals

    /// The simulated time of the last logical record, nil while there is none.
    public func lastRecordTime() throws(StoreError) -> SimTime? {
        try self.read("cannot read the logical journal") { db in
            try Int64.fetchOne(db, sql: "SELECT max(time_us) FROM logical_journal").map { SimTime(microseconds: UInt64(clamping: $0)) }
        }
    }

    /// Wall time (ISO-8601) of the last physical event, nil while there is none.
    public func lastPhysicalEventTime() throws(StoreError) -> String? {
        try self.read("cannot read the physical journal") { db in
            try String.fetchOne(db, sql: "SELECT max(wall_at) FROM physical_journal")
        }
    }

    /// Which logical records a view reads.
    public enum RecordFilter: Sendable {
        /// The records about `subject`, except those of the kinds listed.
        case subject(String, excluding: [String] = [])
        /// The records of these kinds.
        case kinds([String])
        /// The records about `subject` of these kinds.
        case subjectAndKinds(String, [String])
        /// The records of these kinds whose first field has `value` (a model `name@vN`, a dataset hash).
        case kindsWithFirstField([String], value: String)
    }

    /// The logical records that `filter` selects, in journal order.
    public func records(_ filter: RecordFilter) throws(StoreError) -> [LogicalRecord] {
        func marks(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }
        let (condition, arguments): (String, [String]) =
            switch filter {
            case .subject(let subject, let excluded) where excluded.isEmpty: ("subject = ?", [subject])
            case .subject(let subject, let excluded): ("subject = ? AND kind NOT IN (\(marks(excluded.count)))", [subject] + excluded)
            case .kinds(let kinds): ("kind IN (\(marks(kinds.count)))", kinds)
            case .subjectAndKinds(let subject, let kinds): ("subject = ? AND kind IN (\(marks(kinds.count)))", [subject] + kinds)
            case .kindsWithFirstField(let kinds, let value):
                ("kind IN (\(marks(kinds.count))) AND json_extract(fields, '$[0][1]') = ?", kinds + [value])
            }
        return try self.read("cannot read the logical journal") { db in
            try Row.fetchAll(
                db, sql: "SELECT time_us, kind, subject, fields FROM logical_journal WHERE \(condition) ORDER BY position",
                arguments: StatementArguments(arguments)
            ).map { row in
                LogicalRecord(
                    time: SimTime(microseconds: UInt64(clamping: row["time_us"] as Int64)), kind: row["kind"], subject: row["subject"],
                    fields: FieldsJSON.decode(row["fields"]) ?? [])
            }
        }
    }

    /// The physical events of `kind` whose task starts with `taskPrefix`, oldest first.
    public func physicalEvents(kind: String, taskPrefix: String) throws(StoreError) -> [(agent: String, task: String, detail: String)] {
        // `%`, `_` and the escape character itself are literal in the prefix.
        let escaped = String(taskPrefix.flatMap { character in "\\%_".contains(character) ? ["\\", character] : [character] })
        return try self.read("cannot read the physical journal") { db in
            try Row.fetchAll(
                db, sql: "SELECT agent, task, detail FROM physical_journal WHERE kind = ? AND task LIKE ? ESCAPE '\\' ORDER BY id",
                arguments: [kind, escaped + "%"]
            ).map { (agent: $0[0], task: $0[1], detail: $0[2]) }
        }
    }

    // MARK: - Models

    /// A registered model.
    public struct ModelEntry: Sendable, Equatable {
        /// The model's name.
        public var name: String
        /// The use case it serves.
        public var useCase: String
    }

    /// Every registered model, by name.
    public func models() throws(StoreError) -> [ModelEntry] {
        try self.read("cannot read the models") { db in
            try Row.fetchAll(db, sql: "SELECT name, use_case FROM models ORDER BY name").map { ModelEntry(name: $0["name"], useCase: $0["use_case"]) }
        }
    }

    /// Where an alias points now.
    public struct AliasPointer: Sendable, Equatable {
        /// The model.
        public var model: String
        /// The alias (`production`, `candidate`).
        public var alias: String
        /// The version it points at.
        public var version: Int
        /// When it was set, in simulated time.
        public var setAt: SimTime
        /// Who set it.
        public var setBy: String
    }

    /// The aliases of `model` (every model's when nil), by model and alias.
    public func aliases(of model: String? = nil) throws(StoreError) -> [AliasPointer] {
        try self.read("cannot read the aliases") { db in
            let rows =
                if let model {
                    try Row.fetchAll(db, sql: "SELECT * FROM model_aliases WHERE model = ? ORDER BY alias", arguments: [model])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM model_aliases ORDER BY model, alias")
                }
            return rows.map { row in
                AliasPointer(
                    model: row["model"], alias: row["alias"], version: row["version"],
                    setAt: SimTime(microseconds: UInt64(clamping: row["set_us"] as Int64)), setBy: row["set_by"])
            }
        }
    }

    // MARK: - Metrics and alerts

    /// The latest sample of `series` for each label set, by labels.
    public func latestMetrics(_ series: String) throws(StoreError) -> [MetricSample] {
        let latest = Dictionary(try self.metrics(series).map { ($0.labels, $0) }, uniquingKeysWith: { earlier, later in
            later.time >= earlier.time ? later : earlier
        })
        return latest.values.sorted { Self.labelsJSON($0.labels) < Self.labelsJSON($1.labels) }
    }

    /// Every alert, oldest first.
    public func allAlerts() throws(StoreError) -> [Alert] {
        try self.read("cannot read alerts") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts ORDER BY since_us, id").map(Self.alert(from:))
        }
    }

    /// The alerts of one rule on one subject, summed up.
    public struct AlertTally: Sendable, Equatable {
        /// The rule.
        public var rule: String
        /// What it fired on.
        public var subject: String
        /// The severity in the evidence of the latest alert (empty when it has none).
        public var severity: String
        /// Whether one of them fires now.
        public var firing: Bool
        /// How many were raised.
        public var raised: Int
    }

    /// The alerts by rule and subject.
    public func alertTallies() throws(StoreError) -> [AlertTally] {
        try self.read("cannot read alerts") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT rule, subject, max(state = 'firing') AS firing, count(*) AS n,
                        coalesce((SELECT json_extract(b.evidence, '$.severity') FROM alerts b WHERE b.rule = a.rule
                            AND b.subject = a.subject ORDER BY b.since_us DESC, b.id DESC LIMIT 1), '') AS severity
                    FROM alerts a GROUP BY rule, subject ORDER BY rule, subject
                    """
            ).map {
                AlertTally(rule: $0["rule"], subject: $0["subject"], severity: $0["severity"], firing: ($0["firing"] as Int) != 0, raised: $0["n"])
            }
        }
    }
}
