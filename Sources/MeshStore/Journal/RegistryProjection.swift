import Foundation
import GRDB
import MeshCore

/// Keeps the registries (use cases, catalog, dataset versions, models, approvals) in step with
/// the logical journal: each record of the lifecycle's kinds is applied in the same transaction
/// that appends it, so the registries are a function of the journal — they cannot disagree with
/// it, and a replayed journal rebuilds them.
enum RegistryProjection {
    /// Applies `record` (a no-op for kinds that touch no registry, such as the relay's).
    static func apply(_ record: LogicalRecord, in db: Database) throws {
        let time = Int64(clamping: record.time.microseconds)
        let subject = record.subject
        switch record.kind {
        case "catalog.source":
            try db.execute(
                sql: """
                    INSERT INTO data_sources (id, kind, location, licence, region, contains_pii) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO NOTHING
                    """,
                arguments: [
                    subject, record.field("kind") ?? "", record.field("location") ?? "", record.field("licence") ?? "",
                    record.field("region") ?? "", record.field("pii") == "true" ? 1 : 0,
                ])
        case "usecase.registered":
            let policy = Self.json(record.fields.filter { $0.name != "title" })
            try db.execute(
                sql: """
                    INSERT INTO use_cases (id, name, template, stage, policy, created_us, updated_us)
                    VALUES (?, ?, ?, 'registered', ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """,
                arguments: [subject, record.field("title") ?? subject, record.field("template") ?? "", policy, time, time])
        case "data.discovery":
            for rejection in record.fields where rejection.name == "rejection" {
                let parts = rejection.value.split(separator: "|", maxSplits: 2).map(String.init)
                guard parts.count == 3 else { continue }
                try db.execute(
                    sql: """
                        INSERT INTO source_rejections (use_case, source, rule, reason, time_us) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT DO NOTHING
                        """,
                    arguments: [subject, parts[0], parts[1], parts[2], time])
            }
            try Self.stage(subject, "discovered", time, db)
        case "usecase.feasibility":
            try Self.stage(subject, record.field("feasible") == "true" ? "feasible" : "infeasible", time, db)
        case "gate.decision":
            let approved = record.field("approved") == "true"
            try db.execute(
                sql: """
                    INSERT INTO approvals (gate, subject, decision, decided_by, reason, decided_us, decided_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (gate, subject) DO NOTHING
                    """,
                arguments: [
                    record.field("gate") ?? "", record.field("target") ?? subject, approved ? "approved" : "rejected",
                    record.field("who") ?? "", record.field("reason") ?? "", time, SimClock.iso8601(record.time),
                ])
        case "dataset.version":
            let rows = (record.field("rows") ?? "").split(separator: "/").compactMap { Int($0) }.reduce(0, +)
            try db.execute(
                sql: """
                    INSERT INTO dataset_versions (content_hash, use_case, name, parent_hash, rows, profile, created_us)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING
                    """,
                arguments: [
                    record.field("hash") ?? "", subject, record.field("source") ?? "", record.field("parent"), rows,
                    Self.json(record.fields), time,
                ])
            try Self.stage(subject, "data-prepared", time, db)
        case "model.plan":
            try Self.stage(subject, "searching", time, db)
        case "model.registered":
            guard let label = record.field("version"), let at = label.lastIndex(of: "@"),
                let number = Int(label[label.index(at, offsetBy: 2)...])
            else { return }
            let model = String(label[..<at])
            let hyperparameters = Self.json(
                record.fields.filter { ["architecture", "learning_rate", "epochs", "trial", "optimizer"].contains($0.name) })
            let metrics = Self.json(record.fields.filter { ["accuracy", "macro_f1", "meets_objective"].contains($0.name) })
            try db.execute(
                sql: "INSERT INTO models (name, use_case, created_us) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [model, subject, time])
            try db.execute(
                sql: """
                    INSERT INTO model_versions
                        (model, version, dataset_hash, base_model, hyperparameters, seed, metrics, artifact_hash, created_us)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, version) DO NOTHING
                    """,
                arguments: [
                    model, number, record.field("dataset") ?? "", record.field("base") ?? "", hyperparameters,
                    record.field("seed") ?? "0", metrics, record.field("weights"), time,
                ])
            try Self.stage(subject, "model-registered", time, db)
        case "pipeline.deployed", "pipeline.promoted":
            guard let (model, number) = Self.modelVersion(record.field("version")), let alias = record.field("alias") else { return }
            let previous = try Int.fetchOne(
                db, sql: "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", arguments: [model, alias])
            try db.execute(
                sql: """
                    INSERT INTO model_aliases (model, alias, version, set_us, set_by) VALUES (?, ?, ?, ?, 'pipeline')
                    ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, set_us = excluded.set_us
                    """,
                arguments: [model, alias, number, time])
            try db.execute(
                sql: """
                    INSERT INTO model_alias_history (model, alias, version, previous_version, set_us, set_by, reason)
                    VALUES (?, ?, ?, ?, ?, 'pipeline', ?)
                    """,
                arguments: [model, alias, number, previous, time, record.kind == "pipeline.promoted" ? "promoted" : "deployed"])
            try Self.stage(subject, record.kind == "pipeline.promoted" ? "in-production" : "in-staging", time, db)
        case "monitoring.window":
            let labels = Self.json([.init("use_case", subject), .init("version", record.field("version") ?? "")])
            for (series, field) in [
                ("stream_accuracy", "accuracy"), ("stream_held_out_accuracy", "held_out_accuracy"),
                ("drift_ks_features", "ks_flagged"), ("drift_max_psi", "max_psi"),
            ] {
                guard let value = record.field(field).flatMap(Double.init) else { continue }
                try db.execute(
                    sql: "INSERT INTO metrics (series, labels, time_us, value) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [series, labels, time, value])
            }
        case "alert.firing":
            try db.execute(
                sql: """
                    INSERT INTO alerts (rule, subject, state, since_us, evidence) VALUES (?, ?, 'firing', ?, ?)
                    ON CONFLICT (rule, subject, since_us) DO NOTHING
                    """,
                arguments: [record.field("alert") ?? "", subject, time, Self.json(record.fields)])
        case "alert.resolved":
            try db.execute(
                sql: "UPDATE alerts SET state = 'resolved', resolved_us = ? WHERE rule = ? AND subject = ? AND state = 'firing'",
                arguments: [time, record.field("alert") ?? "", subject])
        case "retrain.requested":
            try Self.stage(subject, "retraining", time, db)
        case "usecase.ended":
            try Self.stage(subject, record.field("state") ?? "ended", time, db)
        default:
            return
        }
    }

    /// `name@vN` as its parts.
    private static func modelVersion(_ label: String?) -> (String, Int)? {
        guard let label, let at = label.lastIndex(of: "@"), label[label.index(after: at)...].hasPrefix("v"),
            let number = Int(label[label.index(at, offsetBy: 2)...])
        else { return nil }
        return (String(label[..<at]), number)
    }

    private static func stage(_ useCase: String, _ stage: String, _ time: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE use_cases SET stage = ?, updated_us = ? WHERE id = ?", arguments: [stage, time, useCase])
    }

    /// The fields as a JSON object (a repeated name keeps its last value), keys sorted.
    private static func json(_ fields: [LogicalRecord.Field]) -> String {
        var object: [String: String] = [:]
        for field in fields { object[field.name] = field.value }
        return String(decoding: CanonicalJSON.encode(object), as: UTF8.self)
    }
}
