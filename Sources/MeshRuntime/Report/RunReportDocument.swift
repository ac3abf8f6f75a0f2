public import MeshCore
public import MeshStore

/// What a run's report shows, gathered from its logical journal and its telemetry: one section
/// per use case, in the order the journal first names them.
///
/// Build it from a run's database with ``init(store:)``, or from records directly with
/// ``init(header:records:telemetry:)`` (tests); render it with ``ReportMarkdown`` and
/// ``ReportHTML``, or write every file at once with ``RunReportWriter``.
///
/// ```swift
/// let document = try RunReportDocument(store: RunStore.openReadOnly(at: "runs/default-…"))
/// print(ReportMarkdown.render(document, chartFiles: [:]))
/// ```
///
/// Everything in it comes from the logical journal (simulated time, the same for every run of a
/// scenario and seed) except the load-test and inference-time figures, which are wall-clock
/// telemetry measured on the machine that ran the mesh.
public struct RunReportDocument: Sendable, Equatable {
    /// The run as a whole.
    public struct Header: Sendable, Equatable {
        /// The run's id (its directory's name).
        public var runID: String
        /// The run's directory.
        public var runDirectory: String
        /// The scenario's name.
        public var scenario: String
        /// The scenario's seed.
        public var seed: UInt64
        /// The logical digest after the last record, `sha256:` + hex; nil for an empty journal.
        public var digest: String?

        /// Makes a header.
        public init(runID: String, runDirectory: String, scenario: String, seed: UInt64, digest: String?) {
            self.runID = runID
            self.runDirectory = runDirectory
            self.scenario = scenario
            self.seed = seed
            self.digest = digest
        }
    }

    /// One physical `telemetry` event: the agent, the task and its `k=v k=v` detail.
    public struct Telemetry: Sendable, Equatable {
        /// The reporting agent (`id#incarnation`).
        public var agent: String
        /// The task the figures belong to.
        public var task: String
        /// The figures, `key=value` separated by spaces.
        public var detail: String

        /// Makes an event.
        public init(agent: String, task: String, detail: String) {
            self.agent = agent
            self.task = task
            self.detail = detail
        }

        /// The figures as a dictionary.
        var values: [String: String] {
            var values: [String: String] = [:]
            for pair in self.detail.split(separator: " ") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            return values
        }
    }

    /// A data source of the run's catalog (`catalog.source`).
    public struct CatalogSource: Sendable, Equatable {
        /// The source's id.
        public var id: String
        /// `csv`, `synthetic`, `stream`, …
        public var kind: String
        /// Its licence.
        public var licence: String
        /// Where the data lives (a region code).
        public var region: String
        /// Whether it holds personal data.
        public var pii: Bool
    }

    /// The run's header.
    public var header: Header
    /// Logical records in the journal.
    public var records: Int
    /// Tasks done (`task.done`).
    public var tasksDone: Int
    /// Tasks that failed for good (`task.failed`).
    public var tasksFailed: Int
    /// The simulated time of the last record; nil for an empty journal.
    public var lastTime: SimTime?
    /// The data catalog the run started with.
    public var catalog: [CatalogSource]
    /// One entry per use case, in the order the journal first names them.
    public var useCases: [UseCaseReport]

    /// Gathers the report from `records` (in journal order) and the run's `telemetry` events.
    public init(header: Header, records: [LogicalRecord], telemetry: [Telemetry]) {
        self.header = header
        self.records = records.count
        self.tasksDone = records.count(where: { $0.kind == "task.done" })
        self.tasksFailed = records.count(where: { $0.kind == "task.failed" })
        self.lastTime = records.map(\.time).max()
        self.catalog = records.filter { $0.kind == "catalog.source" }.map { record in
            CatalogSource(
                id: record.subject, kind: record.field("kind") ?? "", licence: record.field("licence") ?? "",
                region: record.field("region") ?? "", pii: record.field("pii") == "true")
        }
        var order: [String] = []
        var grouped: [String: [LogicalRecord]] = [:]
        for record in records {
            guard let id = Self.useCase(of: record) else { continue }
            if grouped[id] == nil { order.append(id) }
            grouped[id, default: []].append(record)
        }
        self.useCases = order.map { id in
            let prefix = "uc/\(id)/"
            return UseCaseReport(
                id: id, records: grouped[id] ?? [], telemetry: telemetry.filter { $0.task.hasPrefix(prefix) })
        }
    }

    /// Reads the run's database (read-only; the journal's digest is checked as it is read).
    ///
    /// - Throws: the store's error when the database cannot be read or its journal was altered.
    public init(store: RunStore) throws(StoreError) {
        let info = try store.runInfo()
        let journal = try store.readJournal()
        let telemetry = try store.physicalEvents(kind: "telemetry").map {
            Telemetry(agent: $0.agent, task: $0.task, detail: $0.detail)
        }
        let header = Header(
            runID: info.id, runDirectory: store.directory, scenario: info.scenario, seed: info.seed,
            digest: journal.entries.isEmpty ? nil : journal.recomputed.text)
        self.init(header: header, records: journal.records, telemetry: telemetry)
    }

    /// The use case a record belongs to, or nil for run-wide records.
    static func useCase(of record: LogicalRecord) -> String? {
        if record.kind == "task.failed" {
            // Task ids read `uc/<use case>/<step>`.
            let parts = record.subject.split(separator: "/", maxSplits: 2)
            guard parts.count == 3, parts[0] == "uc" else { return nil }
            return String(parts[1])
        }
        let family = record.kind.split(separator: ".").first.map(String.init) ?? ""
        return Self.useCaseFamilies.contains(family) ? record.subject : nil
    }

    /// The record kinds' first words whose subject is a use case id.
    static let useCaseFamilies: Set<String> = [
        "usecase", "data", "dataset", "model", "search", "gate", "pipeline", "monitoring", "alert", "retrain",
    ]
}

extension RunReportDocument {
    /// The chart files `report.md` links to, as (file name, SVG text), in use-case order:
    /// `report-accuracy.svg` when one use case was monitored, `report-accuracy-<id>.svg` each
    /// when several were.
    public var chartFiles: [(fileName: String, svg: String)] {
        let charts = self.charts
        return self.useCases.compactMap { useCase in
            charts[useCase.id].map { (fileName: $0.fileName, svg: $0.chart.render(standalone: true)) }
        }
    }

    /// Each monitored use case's accuracy chart, by use case id.
    var charts: [String: ReportChart] {
        let monitored = self.useCases.filter { !$0.windows.isEmpty }
        var charts: [String: ReportChart] = [:]
        for useCase in monitored {
            let fileName =
                monitored.count == 1
                ? "report-accuracy.svg" : "report-accuracy-\(AccuracyChart.identifier(useCase.id)).svg"
            charts[useCase.id] = AccuracyChart.make(for: useCase, fileName: fileName)
        }
        return charts
    }
}
