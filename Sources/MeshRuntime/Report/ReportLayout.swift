import MeshCore

/// Lays a ``RunReportDocument`` out as ``ReportBlock``s: the header, one section per use case,
/// and how to call the inference API.
enum ReportLayout {
    /// The blocks of the report; `charts` holds each monitored use case's accuracy chart by id.
    static func blocks(for document: RunReportDocument, charts: [String: ReportChart]) -> [ReportBlock] {
        var blocks: [ReportBlock] = [.heading(level: 1, text: "Meshwork run report: \(document.header.scenario)")]
        blocks += self.header(document)
        guard document.records > 0 else {
            blocks.append(
                .paragraph(
                    .plain(
                        "The journal is empty: this run recorded nothing (it stopped before its first record, or has not started yet)."
                    )))
            return blocks
        }
        guard !document.useCases.isEmpty else {
            blocks.append(
                .paragraph(
                    .plain(
                        "This run has no use cases (it is not a lifecycle scenario): \(document.tasksDone) task(s) done, "
                            + "\(document.tasksFailed) failed for good.")))
            return blocks
        }
        if !document.catalog.isEmpty {
            blocks.append(.heading(level: 2, text: "Data catalog"))
            blocks.append(
                .table(
                    header: ["Source", "Kind", "Licence", "Region", "Personal data"],
                    rows: document.catalog.map { source in
                        [
                            [.code(source.id)], .plain(source.kind), .plain(source.licence), .plain(source.region),
                            .plain(ReportFormat.yesNo(source.pii)),
                        ]
                    }))
        }
        for useCase in document.useCases {
            blocks += UseCaseLayout(useCase: useCase, chart: charts[useCase.id]).blocks()
        }
        blocks += self.apiSection(document)
        return blocks
    }

    private static func header(_ document: RunReportDocument) -> [ReportBlock] {
        let header = document.header
        var rows: [[[ReportInline]]] = [
            [.plain("Id"), [.code(header.runID)]],
            [.plain("Directory"), [.code(header.runDirectory)]],
            [.plain("Scenario"), .plain("\(header.scenario), seed \(header.seed)")],
            [.plain("Digest"), header.digest.map { [.code($0)] } ?? .plain("none (empty journal)")],
            [
                .plain("Logical records"),
                .plain(
                    "\(document.records) (\(document.tasksDone) task(s) done, \(document.tasksFailed) failed for good)"),
            ],
        ]
        if let last = document.lastTime {
            rows.append([
                .plain("Simulated span"),
                .plain("\(ReportFormat.time(.zero)) to \(ReportFormat.time(last)) (\(ReportFormat.elapsed(last)))"),
            ])
        }
        if !document.useCases.isEmpty {
            rows.append([
                .plain("Use cases"),
                .plain(
                    document.useCases.map { "\($0.id) (\($0.ending?.state ?? "not ended"))" }.joined(separator: ", ")),
            ])
        }
        return [
            .table(header: ["Run", "Value"], rows: rows),
            .paragraph(
                .plain(
                    "Every figure here comes from the run's logical journal (mesh.sqlite) and is the same in every run of this "
                        + "scenario and seed. Times are simulated, counted from 1970-01-01T00:00:00Z. The exceptions are marked "
                        + "wall clock: load tests and inference timings measured on the machine that ran the mesh.")),
        ]
    }

    private static func apiSection(_ document: RunReportDocument) -> [ReportBlock] {
        let served = document.useCases.filter { !$0.promotions.isEmpty }
        let name = served.first?.id ?? "NAME"
        let features = served.first?.datasets.last?.features ?? 64
        let zeros = Array(repeating: "0", count: max(1, features)).joined(separator: ",")
        var blocks: [ReportBlock] = [
            .heading(level: 2, text: "Calling the inference API"),
            .paragraph([
                .text("The mesh serves its models over HTTP in the KServe v2 (Open Inference Protocol) shape. "),
                .code("meshwork up SCENARIO --hold"),
                .text(
                    " keeps the mesh and its inference API up after the workflow until Ctrl-C, and prints the API's address "
                        + "on stderr; the API of a finished run is gone, so start one that way. "
                        + "A bare model name answers with its production version; "),
                .code("NAME@staging"), .text(" names an alias and "), .code("/v2/models/NAME/versions/N"),
                .text(" a version."),
            ]),
        ]
        if served.isEmpty {
            blocks.append(
                .paragraph(
                    .plain(
                        "No model of this run reached production, so this run has nothing to call; the calls below are those "
                            + "of a run whose model does (NAME is its use case's id).")))
        } else if served.count > 1 {
            blocks.append(.paragraph([.text("Models served in this run: ")] + Self.codeList(served.map(\.id))))
        }
        blocks.append(
            .code(
                """
                # readiness of the server
                curl http://127.0.0.1:PORT/v2/health/ready
                # the model's metadata: versions, inputs, outputs
                curl http://127.0.0.1:PORT/v2/models/\(name)
                # inference: one row of \(features) features (here all zero) in the dataset's column order
                curl -X POST http://127.0.0.1:PORT/v2/models/\(name)/infer \\
                  -H 'Content-Type: application/json' \\
                  -d '{"inputs":[{"name":"input","shape":[1,\(features)],"datatype":"FP32","data":[\(zeros)]}]}'
                """))
        blocks.append(
            .paragraph([
                .text("The answer holds "), .code("logits"), .text(" (FP32, one row per input row) and "),
                .code("label"),
                .text(" (INT64, the predicted class); ask for "), .code("probabilities"), .text(" with "),
                .code("\"outputs\":[{\"name\":\"probabilities\"}]"),
                .text(". Malformed requests get a 4xx status and a JSON "), .code("error"), .text("."),
            ]))
        return blocks
    }

    /// Identifiers as code, separated by commas.
    static func codeList(_ items: [String]) -> [ReportInline] {
        guard !items.isEmpty else { return [.text("none")] }
        var inlines: [ReportInline] = []
        for (index, item) in items.enumerated() {
            if index > 0 { inlines.append(.text(", ")) }
            inlines.append(.code(item))
        }
        return inlines
    }
}
