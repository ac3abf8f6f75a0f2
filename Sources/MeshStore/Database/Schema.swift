import GRDB

/// The run database's schema, as versioned GRDB migrations (docs/STORE.md describes every table).
///
/// Each migration ends by setting `PRAGMA user_version` to its number, so a reader can tell a
/// database from a newer Meshwork (higher version) and refuse it before touching anything.
/// Migrations are append-only: a released one is never edited; a change is a new migration.
enum Schema {
    /// The version this build writes and understands.
    static let version = 2
    /// `PRAGMA application_id` of a Meshwork run database ("MESH"), so `file(1)`-like checks and
    /// our own open can tell it from any other SQLite file.
    static let applicationID: Int32 = 0x4D45_5348

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: version1)
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        // v2: the output of every committed task, so a restarted coordinator (and `meshwork
        // replay`) can feed it back to the workflow; the journal holds only its SHA-256.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE task_outputs (
                    journal_position INTEGER PRIMARY KEY NOT NULL,
                    output BLOB NOT NULL
                );
                PRAGMA user_version = 2;
                """)
        }
        return migrator
    }

    // Conventions: times on the simulated clock are `*_us` INTEGER microseconds since the scenario
    // started; wall-clock times are `*_at` TEXT, ISO-8601 UTC with milliseconds (sortable, and
    // SQLite's date functions read them); u64 values that may exceed SQLite's signed INTEGER
    // (seeds) are decimal TEXT; hashes are lowercase hex TEXT; structured values are JSON TEXT.
    private static let version1 = """
        CREATE TABLE run (
            id TEXT PRIMARY KEY NOT NULL,
            scenario TEXT NOT NULL,
            seed TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            final_digest TEXT,
            writer_pid INTEGER,
            writer_host TEXT
        );

        CREATE TABLE logical_journal (
            position INTEGER PRIMARY KEY NOT NULL CHECK (position >= 0),
            time_us INTEGER NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            fields TEXT NOT NULL,
            digest TEXT NOT NULL
        );

        CREATE TABLE task_results (
            task TEXT NOT NULL,
            step TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
            output_sha256 TEXT,
            reason TEXT,
            time_us INTEGER NOT NULL,
            journal_position INTEGER NOT NULL,
            duplicates INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (task, step)
        ) WITHOUT ROWID;

        CREATE TABLE physical_journal (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            wall_at TEXT NOT NULL,
            monotonic_ns INTEGER NOT NULL,
            kind TEXT NOT NULL,
            agent TEXT NOT NULL,
            task TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX physical_journal_by_agent ON physical_journal (agent, id);
        CREATE INDEX physical_journal_by_task ON physical_journal (task, kind);

        CREATE TABLE agents (
            agent_id TEXT NOT NULL,
            incarnation INTEGER NOT NULL,
            role TEXT NOT NULL,
            pid INTEGER,
            host TEXT,
            joined_at TEXT NOT NULL,
            departed_at TEXT,
            departure TEXT,
            PRIMARY KEY (agent_id, incarnation)
        );

        CREATE TABLE use_cases (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            template TEXT NOT NULL,
            stage TEXT NOT NULL,
            policy TEXT NOT NULL DEFAULT '{}',
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL
        );

        CREATE TABLE data_sources (
            id TEXT PRIMARY KEY NOT NULL,
            kind TEXT NOT NULL,
            location TEXT NOT NULL,
            licence TEXT NOT NULL,
            region TEXT NOT NULL,
            contains_pii INTEGER NOT NULL CHECK (contains_pii IN (0, 1))
        );

        CREATE TABLE source_rejections (
            use_case TEXT NOT NULL REFERENCES use_cases (id),
            source TEXT NOT NULL REFERENCES data_sources (id),
            rule TEXT NOT NULL,
            reason TEXT NOT NULL,
            time_us INTEGER NOT NULL,
            PRIMARY KEY (use_case, source, rule)
        ) WITHOUT ROWID;

        CREATE TABLE dataset_versions (
            content_hash TEXT PRIMARY KEY NOT NULL,
            use_case TEXT NOT NULL REFERENCES use_cases (id),
            name TEXT NOT NULL,
            parent_hash TEXT REFERENCES dataset_versions (content_hash),
            rows INTEGER NOT NULL,
            profile TEXT NOT NULL,
            created_us INTEGER NOT NULL
        );

        CREATE TABLE models (
            name TEXT PRIMARY KEY NOT NULL,
            use_case TEXT NOT NULL REFERENCES use_cases (id),
            created_us INTEGER NOT NULL
        );

        CREATE TABLE model_versions (
            model TEXT NOT NULL REFERENCES models (name),
            version INTEGER NOT NULL CHECK (version >= 1),
            dataset_hash TEXT NOT NULL REFERENCES dataset_versions (content_hash),
            base_model TEXT NOT NULL,
            hyperparameters TEXT NOT NULL,
            seed TEXT NOT NULL,
            metrics TEXT NOT NULL,
            artifact_hash TEXT,
            created_us INTEGER NOT NULL,
            PRIMARY KEY (model, version)
        ) WITHOUT ROWID;

        CREATE TABLE model_aliases (
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            set_us INTEGER NOT NULL,
            set_by TEXT NOT NULL,
            PRIMARY KEY (model, alias),
            FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
        ) WITHOUT ROWID;

        CREATE TABLE model_alias_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            previous_version INTEGER,
            set_us INTEGER NOT NULL,
            set_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
        );

        CREATE TABLE approvals (
            gate TEXT NOT NULL,
            subject TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
            decided_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            decided_us INTEGER NOT NULL,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (gate, subject)
        ) WITHOUT ROWID;

        CREATE TABLE metrics (
            series TEXT NOT NULL,
            labels TEXT NOT NULL,
            time_us INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (series, labels, time_us)
        ) WITHOUT ROWID;

        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            rule TEXT NOT NULL,
            subject TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
            since_us INTEGER NOT NULL,
            resolved_us INTEGER,
            evidence TEXT NOT NULL,
            UNIQUE (rule, subject, since_us)
        );
        """
}
