import Foundation
import MeshCompute
import MeshCore
import MeshServer

/// Real models for the server to serve: small MLPs trained on digits.csv with MeshCompute, built
/// once per test process.
enum Fixtures {
    /// The repository root, found from this file so tests work from any working directory.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// digits.csv, its 80/20 split, and the standardizer fitted on the training part.
    struct Digits: Sendable {
        var table: CSVTable
        var scaler: Standardizer
        var train: LabeledData
        /// Raw (unstandardized) test rows, row-major.
        var rawTest: [Float]
        var testLabels: [Int]
    }

    static let digits: Digits = {
        let path = repositoryRoot.appendingPathComponent("scenarios/data/digits.csv").path
        let text = try! String(contentsOfFile: path, encoding: .utf8)
        let table = try! CSVTable.parse(text: text, source: "digits.csv")
        var rng = SeededRandom(seed: 0, key: "split")
        let split = try! StratifiedSplit(labels: table.labels, testFraction: 0.2, source: "digits.csv", using: &rng)
        let trainTable = table.selecting(rows: split.train)
        let scaler = try! Standardizer(fitting: trainTable)
        let train = try! LabeledData(table: scaler.transform(trainTable), classLabels: table.classLabels)
        let test = table.selecting(rows: split.test)
        return Digits(table: table, scaler: scaler, train: train, rawTest: test.features, testLabels: test.labels)
    }()

    /// A 64-32-10 MLP trained for a few epochs with `seed` (different seeds give different logits).
    static func trained(seed: UInt64, epochs: Int = 4) -> MLP {
        let model = MLP(architecture: .mlp(hidden: [32]), inputs: 64, classLabels: digits.train.classLabels, seed: seed)
        return try! Trainer.train(model, on: digits.train, configuration: TrainingConfiguration(epochs: epochs, seed: seed))
            .model
    }

    static let modelA: MLP = trained(seed: 1)
    static let modelB: MLP = trained(seed: 2)

    /// Version 1 (fp32, model A) and version 2 (fp32 + int8 of model B, serving int8), both with
    /// the digits standardizer.
    static func versions(name: String = "digits") throws -> (ModelVersion, ModelVersion) {
        let one = try ModelVersion(
            name: name,
            version: 1,
            fp32: modelA,
            standardizer: digits.scaler,
            metadata: ModelMetadata(datasetHash: "sha256:abc", metrics: ["accuracy": 0.95])
        )
        let two = try ModelVersion(
            name: name,
            version: 2,
            fp32: modelB,
            int8: QuantizedMLP(quantizing: modelB),
            standardizer: digits.scaler
        )
        return (one, two)
    }

    /// `rows` raw test rows starting at `from`.
    static func rawRows(_ rows: Int, from: Int = 0) -> [Float] {
        Array(digits.rawTest[(from * 64)..<((from + rows) * 64)])
    }

    /// The logits MeshCompute gives for raw rows on `version`'s serving precision, computed here
    /// independently of the server's code path.
    static func expectedLogits(_ raw: [Float], rows: Int, model: MLP? = nil, int8: QuantizedMLP? = nil) -> [Float] {
        var values = raw
        digits.scaler.apply(to: &values)
        let inputs = try! Matrix(rows: rows, columns: 64, values: values)
        if let int8 { return try! int8.logits(inputs).values }
        return try! model!.logits(inputs).values
    }

    /// A KServe v2 infer body for `rows` rows of `values`.
    static func inferBody(_ values: [Float], rows: Int, nested: Bool = false, extra: String = "") -> [UInt8] {
        let data: String
        if nested {
            data = (0..<rows).map { row in
                "[" + values[(row * 64)..<((row + 1) * 64)].map { "\($0)" }.joined(separator: ",") + "]"
            }.joined(separator: ",")
        } else {
            data = values.map { "\($0)" }.joined(separator: ",")
        }
        return Array(
            "{\(extra)\"inputs\":[{\"name\":\"input\",\"shape\":[\(rows),64],\"datatype\":\"FP32\",\"data\":[\(data)]}]}"
                .utf8
        )
    }
}

/// Starts a server on 127.0.0.1 port 0 with one client connection, runs `body`, and stops both
/// whatever happens.
func withServer<T>(
    _ registry: ModelRegistry,
    configuration: InferenceServer.Configuration = .init(),
    _ body: (InferenceServer, HTTPClientConnection) async throws -> T
) async throws -> T {
    let server = InferenceServer(registry: registry, configuration: configuration)
    try await server.start()
    do {
        let client = try await HTTPClientConnection.connect(port: server.port!)
        defer { client.close() }
        let result = try await body(server, client)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// The JSON object of a response body.
func json(_ response: HTTPClientConnection.Response) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(response.body))
    guard let dictionary = object as? [String: Any] else { throw JSONShapeError() }
    return dictionary
}

struct JSONShapeError: Error {}

/// The `data` of the output named `name`, as doubles.
func outputData(_ object: [String: Any], _ name: String) -> [Double]? {
    guard let outputs = object["outputs"] as? [[String: Any]],
        let output = outputs.first(where: { $0["name"] as? String == name })
    else { return nil }
    return (output["data"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue }
}
