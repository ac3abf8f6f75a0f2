public import Foundation
public import MeshCore
import GRDB

// The registries: use cases, data catalog, dataset versions, models, aliases, approvals, metrics,
// alerts. Each write is one transaction; inserts keyed by the domain's own key return false
// instead of duplicating (so re-applying a journaled decision after a restart is a no-op).

extension RunStore {
    // MARK: - Use cases

    /// Registers a use case; false when its id is already registered (the first stays).
    @discardableResult
    public func registerUseCase(_ useCase: UseCase) throws(StoreError) -> Bool {
        try self.write("cannot register use case \(useCase.id)") { db in
            try db.execute(
                sql: """
                    INSERT INTO use_cases (id, name, template, stage, policy, created_us, updated_us)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """,
                arguments: [
                    useCase.id, useCase.name, useCase.template, useCase.stage, useCase.policyJSON,
                    Int64(clamping: useCase.created.microseconds), Int64(clamping: useCase.updated.microseconds),
                ])
            return db.changesCount > 0
        }
    }

    /// Moves a use case to `stage`.
    public func setStage(useCase id: String, stage: String, at time: SimTime) throws(StoreError) {
        let path = self.databasePath
        try self.write("cannot move use case \(id)") { db in
            try db.execute(
                sql: "UPDATE use_cases SET stage = ?, updated_us = ? WHERE id = ?",
                arguments: [stage, Int64(clamping: time.microseconds), id])
            if db.changesCount == 0 { throw StoreError(.invalidArgument, path: path, "no use case \(id)") }
        }
    }

    /// Every use case, by id.
    public func useCases() throws(StoreError) -> [UseCase] {
        try self.read("cannot read use cases") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM use_cases ORDER BY id").map { row in
                var useCase = UseCase(
                    id: row["id"], name: row["name"], template: row["template"], stage: row["stage"],
                    policyJSON: row["policy"], created: SimTime(microseconds: UInt64(clamping: row["created_us"] as Int64)))
                useCase.updated = SimTime(microseconds: UInt64(clamping: row["updated_us"] as Int64))
                return useCase
            }
        }
    }

    // MARK: - Data catalog

    /// Adds a source to the catalog; false when its id is already there.
    @discardableResult
    public func registerDataSource(_ source: DataSource) throws(StoreError) -> Bool {
        try self.write("cannot register data source \(source.id)") { db in
            try db.execute(
                sql: """
                    INSERT INTO data_sources (id, kind, location, licence, region, contains_pii) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO NOTHING
                    """,
                arguments: [source.id, source.kind, source.location, source.licence, source.region, source.containsPII])
            return db.changesCount > 0
        }
    }

    /// Every source in the catalog, by id.
    public func dataSources() throws(StoreError) -> [DataSource] {
        try self.read("cannot read data sources") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM data_sources ORDER BY id").map { row in
                DataSource(
                    id: row["id"], kind: row["kind"], location: row["location"], licence: row["licence"],
                    region: row["region"], containsPII: row["contains_pii"])
            }
        }
    }

    /// Records that `rule` rejected `source` for `useCase`; false when already recorded.
    @discardableResult
    public func rejectSource(_ source: String, for useCase: String, rule: String, reason: String, at time: SimTime) throws(StoreError) -> Bool {
        try self.write("cannot record the rejection of \(source)") { db in
            try db.execute(
                sql: """
                    INSERT INTO source_rejections (use_case, source, rule, reason, time_us) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """,
                arguments: [useCase, source, rule, reason, Int64(clamping: time.microseconds)])
            return db.changesCount > 0
        }
    }

    /// Rejected sources of a use case: (source, rule, reason).
    public func rejectedSources(for useCase: String) throws(StoreError) -> [(source: String, rule: String, reason: String)] {
        try self.read("cannot read source rejections") { db in
            try Row.fetchAll(
                db, sql: "SELECT source, rule, reason FROM source_rejections WHERE use_case = ? ORDER BY source, rule",
                arguments: [useCase]
            ).map { ($0["source"], $0["rule"], $0["reason"]) }
        }
    }

    // MARK: - Dataset versions

    /// Records a dataset version; false when its content hash is already recorded.
    @discardableResult
    public func addDatasetVersion(_ dataset: DatasetVersion) throws(StoreError) -> Bool {
        try self.write("cannot record dataset \(dataset.contentHash)") { db in
            try db.execute(
                sql: """
                    INSERT INTO dataset_versions (content_hash, use_case, name, parent_hash, rows, profile, created_us)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING
                    """,
                arguments: [
                    dataset.contentHash, dataset.useCase, dataset.name, dataset.parentHash, dataset.rows, dataset.profileJSON,
                    Int64(clamping: dataset.created.microseconds),
                ])
            return db.changesCount > 0
        }
    }

    /// The dataset version with `contentHash`, if recorded.
    public func datasetVersion(_ contentHash: String) throws(StoreError) -> DatasetVersion? {
        try self.read("cannot read dataset \(contentHash)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dataset_versions WHERE content_hash = ?", arguments: [contentHash]).map { row in
                DatasetVersion(
                    contentHash: row["content_hash"], useCase: row["use_case"], name: row["name"], parentHash: row["parent_hash"],
                    rows: row["rows"], profileJSON: row["profile"],
                    created: SimTime(microseconds: UInt64(clamping: row["created_us"] as Int64)))
            }
        }
    }

    // MARK: - Models

    /// Registers a model version (and its model on first use); false when that version exists.
    @discardableResult
    public func registerModelVersion(_ version: ModelVersionRecord) throws(StoreError) -> Bool {
        try self.write("cannot register \(version.model) v\(version.version)") { db in
            let created = Int64(clamping: version.created.microseconds)
            try db.execute(
                sql: "INSERT INTO models (name, use_case, created_us) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [version.model, version.useCase, created])
            try db.execute(
                sql: """
                    INSERT INTO model_versions
                        (model, version, dataset_hash, base_model, hyperparameters, seed, metrics, artifact_hash, created_us)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, version) DO NOTHING
                    """,
                arguments: [
                    version.model, version.version, version.datasetHash, version.baseModel, version.hyperparametersJSON,
                    String(version.seed), version.metricsJSON, version.artifactHash, created,
                ])
            return db.changesCount > 0
        }
    }

    /// The versions of `model`, oldest first.
    public func modelVersions(_ model: String) throws(StoreError) -> [ModelVersionRecord] {
        try self.read("cannot read versions of \(model)") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT v.*, m.use_case FROM model_versions v JOIN models m ON m.name = v.model
                    WHERE v.model = ? ORDER BY v.version
                    """,
                arguments: [model]
            ).map { row in
                ModelVersionRecord(
                    model: row["model"], version: row["version"], useCase: row["use_case"], datasetHash: row["dataset_hash"],
                    baseModel: row["base_model"], hyperparametersJSON: row["hyperparameters"],
                    seed: UInt64(row["seed"] as String) ?? 0, metricsJSON: row["metrics"], artifactHash: row["artifact_hash"],
                    created: SimTime(microseconds: UInt64(clamping: row["created_us"] as Int64)))
            }
        }
    }

    /// Points `alias` of `model` at `version` and appends the change to the alias history
    /// (kept whole: promotions and rollbacks can be audited).
    @discardableResult
    public func setAlias(
        _ alias: String, of model: String, to version: Int, by who: String, reason: String, at time: SimTime
    ) throws(StoreError) -> AliasChange {
        try self.write("cannot point \(model)@\(alias) at v\(version)") { db in
            let micros = Int64(clamping: time.microseconds)
            let previous = try Int.fetchOne(
                db, sql: "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", arguments: [model, alias])
            try db.execute(
                sql: """
                    INSERT INTO model_aliases (model, alias, version, set_us, set_by) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, set_us = excluded.set_us,
                        set_by = excluded.set_by
                    """,
                arguments: [model, alias, version, micros, who])
            try db.execute(
                sql: """
                    INSERT INTO model_alias_history (model, alias, version, previous_version, set_us, set_by, reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [model, alias, version, previous, micros, who, reason])
            return AliasChange(
                model: model, alias: alias, version: version, previousVersion: previous, setBy: who, reason: reason, time: time)
        }
    }

    /// The version `alias` of `model` points to, if set.
    public func alias(_ alias: String, of model: String) throws(StoreError) -> Int? {
        try self.read("cannot read \(model)@\(alias)") { db in
            try Int.fetchOne(db, sql: "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", arguments: [model, alias])
        }
    }

    /// Every change of `model`'s aliases, oldest first.
    public func aliasHistory(of model: String) throws(StoreError) -> [AliasChange] {
        try self.read("cannot read the alias history of \(model)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM model_alias_history WHERE model = ? ORDER BY id", arguments: [model]).map { row in
                AliasChange(
                    model: row["model"], alias: row["alias"], version: row["version"], previousVersion: row["previous_version"],
                    setBy: row["set_by"], reason: row["reason"],
                    time: SimTime(microseconds: UInt64(clamping: row["set_us"] as Int64)))
            }
        }
    }

    // MARK: - Approvals

    /// Records a decision at a gate; false when that gate already decided on that subject (the
    /// first decision stands).
    @discardableResult
    public func recordApproval(_ approval: Approval, decidedAt wall: Date = Date()) throws(StoreError) -> Bool {
        let wallText = WallTime.text(wall)
        return try self.write("cannot record the \(approval.gate) decision on \(approval.subject)") { db in
            try db.execute(
                sql: """
                    INSERT INTO approvals (gate, subject, decision, decided_by, reason, decided_us, decided_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gate, subject) DO NOTHING
                    """,
                arguments: [
                    approval.gate, approval.subject, approval.decision.rawValue, approval.decidedBy, approval.reason,
                    Int64(clamping: approval.time.microseconds), wallText,
                ])
            return db.changesCount > 0
        }
    }

    /// Every decision, in simulated-time order.
    public func approvals() throws(StoreError) -> [Approval] {
        try self.read("cannot read approvals") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals ORDER BY decided_us, gate, subject").map { row in
                Approval(
                    gate: row["gate"], subject: row["subject"], decision: Approval.Decision(rawValue: row["decision"]) ?? .rejected,
                    decidedBy: row["decided_by"], reason: row["reason"],
                    time: SimTime(microseconds: UInt64(clamping: row["decided_us"] as Int64)))
            }
        }
    }

    // MARK: - Metrics

    /// Appends samples in one transaction; a sample whose (series, labels, time) is stored is skipped.
    public func appendMetrics(_ samples: [MetricSample]) throws(StoreError) {
        guard !samples.isEmpty else { return }
        try self.write("cannot append \(samples.count) metric samples") { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO metrics (series, labels, time_us, value) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            for sample in samples {
                try insert.execute(arguments: [
                    sample.series, Self.labelsJSON(sample.labels), Int64(clamping: sample.time.microseconds), sample.value,
                ])
            }
        }
    }

    /// The samples of `series` (optionally with exactly `labels`), in time order.
    public func metrics(_ series: String, labels: [String: String]? = nil) throws(StoreError) -> [MetricSample] {
        let labelsText = labels.map(Self.labelsJSON)
        return try self.read("cannot read metric \(series)") { db in
            let rows =
                if let labelsText {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM metrics WHERE series = ? AND labels = ? ORDER BY time_us",
                        arguments: [series, labelsText])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM metrics WHERE series = ? ORDER BY time_us, labels", arguments: [series])
                }
            return rows.map { row in
                let labels = (try? JSONDecoder().decode([String: String].self, from: Data((row["labels"] as String).utf8))) ?? [:]
                return MetricSample(
                    series: row["series"], labels: labels,
                    time: SimTime(microseconds: UInt64(clamping: row["time_us"] as Int64)), value: row["value"])
            }
        }
    }

    /// Labels as canonical JSON (keys sorted), so equal label sets are equal keys.
    static func labelsJSON(_ labels: [String: String]) -> String {
        var text = "{"
        for (index, key) in labels.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            FieldsJSON.appendString(key, to: &text)
            text += ":"
            FieldsJSON.appendString(labels[key]!, to: &text)
        }
        return text + "}"
    }

    // MARK: - Alerts

    /// Records a firing alert; false when the same rule already fires on the same subject since
    /// the same time.
    @discardableResult
    public func raiseAlert(_ alert: Alert) throws(StoreError) -> Bool {
        try self.write("cannot raise alert \(alert.rule)") { db in
            try db.execute(
                sql: """
                    INSERT INTO alerts (rule, subject, state, since_us, evidence) VALUES (?, ?, 'firing', ?, ?)
                    ON CONFLICT (rule, subject, since_us) DO NOTHING
                    """,
                arguments: [alert.rule, alert.subject, Int64(clamping: alert.since.microseconds), alert.evidenceJSON])
            return db.changesCount > 0
        }
    }

    /// Resolves the firing alerts of `rule` on `subject`.
    public func resolveAlerts(rule: String, subject: String, at time: SimTime) throws(StoreError) {
        try self.write("cannot resolve alert \(rule)") { db in
            try db.execute(
                sql: "UPDATE alerts SET state = 'resolved', resolved_us = ? WHERE rule = ? AND subject = ? AND state = 'firing'",
                arguments: [Int64(clamping: time.microseconds), rule, subject])
        }
    }

    /// The most recent alerts, newest first.
    public func alerts(limit: Int = 20) throws(StoreError) -> [Alert] {
        try self.read("cannot read alerts") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alerts ORDER BY since_us DESC, id DESC LIMIT ?", arguments: [limit])
                .map(Self.alert(from:))
        }
    }

    static func alert(from row: Row) -> Alert {
        var alert = Alert(
            rule: row["rule"], subject: row["subject"], since: SimTime(microseconds: UInt64(clamping: row["since_us"] as Int64)),
            evidenceJSON: row["evidence"])
        alert.state = Alert.State(rawValue: row["state"]) ?? .firing
        alert.resolved = (row["resolved_us"] as Int64?).map { SimTime(microseconds: UInt64(clamping: $0)) }
        return alert
    }
}
