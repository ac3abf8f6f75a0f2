import ArgumentParser
import Foundation
import MeshCompute
import MeshCore
import MeshServer

/// `meshwork serve-model WEIGHTS_FILE...`: serve weights files through the inference API (the Open
/// Inference Protocol's shape, docs/INFERENCE.md) so a person can try it with curl, or measure it
/// with `--load-test`.
///
/// Each argument is one version, numbered from 1 in order; `a.mwnn,a.mwnn.int8` makes one version
/// with both precisions. `production` points at the last version. The first stdout line is
/// `LISTENING http://HOST:PORT`; SIGINT or SIGTERM stops the server gracefully.
struct ServeModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-model",
        abstract: "Serve weights files through the inference API (KServe v2 shape) for people to try."
    )

    @Argument(help: "Weights files (.mwnn from `meshwork train --output`); FP32,INT8 joins two files into one version.")
    var weightsFiles: [String]

    @Option(help: "The model name in URLs.")
    var name: String = "model"

    @Option(help: "The address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to bind; 0 picks a free one (printed on the first stdout line).")
    var port: Int = 0

    @Option(help: "The server's NIO event-loop threads (default: one per core).")
    var eventLoopThreads: Int?

    @Option(help: "fp32 or int8: which weights serve when a version has both (default int8).")
    var precision: String?

    @Option(help: "A JSON file {\"mean\":[…],\"std\":[…]} applied to raw rows before the model.")
    var standardizer: String?

    @Option(
        help: "Refit the standardizer as `meshwork train DATA.csv --seed SEED` did (its training split), so raw rows can be sent."
    )
    var fitStandardizer: String?

    @Option(help: "The --seed given to `meshwork train` (with --fit-standardizer).")
    var seed: UInt64 = 0

    @Option(help: "Instead of serving until stopped, load the server for this many seconds on loopback and report.")
    var loadTest: Double?

    @Option(help: "Load test: connections, each with one request in flight.")
    var connections: Int = 64

    @Option(help: "Load test: rows per request.")
    var batch: Int = 1

    @Option(help: "Load test: the client's own event-loop threads; 0 runs the client on the server's event loops.")
    var clientThreads: Int = 1

    @Flag(help: "Load test: print the report as one JSON object.")
    var json = false

    func run() async throws {
        BLASKernelRelaunch.relaunchIfNeeded(quiet: true)
        do {
            try await self.serve()
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("meshwork serve-model: error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    private struct InputError: Error, CustomStringConvertible {
        var description: String
    }

    private func serve() async throws {
        let registry = ModelRegistry()
        let standardizer = try self.loadStandardizer()
        let precision = try self.precision.map { text in
            guard let value = ModelVersion.Precision(rawValue: text.lowercased()) else {
                throw InputError(description: "--precision \(text): expected fp32 or int8")
            }
            return value
        }
        var last: ModelVersion?
        for (index, argument) in self.weightsFiles.enumerated() {
            var files: [(bytes: [UInt8], source: String)] = []
            for path in argument.split(separator: ",").map(String.init) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw InputError(description: "\(path): no such file or not readable")
                }
                files.append((Array(data), path))
            }
            let version = try ModelVersion(
                name: self.name,
                version: index + 1,
                weightsFiles: files,
                precision: precision,
                standardizer: standardizer
            )
            try registry.register(version)
            last = version
        }
        guard let last else { throw ValidationError("give at least one weights file") }
        try registry.deploy(last, alias: "production")

        let server = InferenceServer(
            registry: registry,
            configuration: .init(host: self.host, port: self.port, eventLoopThreads: self.eventLoopThreads),
            onListening: { [name] url in
                // Unbuffered, so a parent reading the pipe sees it at once.
                FileHandle.standardOutput.write(Data("LISTENING \(url)\n".utf8))
                FileHandle.standardError.write(
                    Data(
                        ("meshwork serve-model: '\(name)' versions 1-\(last.version), production → \(last.version), "
                            + "\(last.featureCount) features, \(last.precision.rawValue); try:\n"
                            + "  curl -s \(url)/v2/models/\(name)\n"
                            + "  curl -s -X POST \(url)/v2/models/\(name)/infer -d "
                            + "'{\"inputs\":[{\"name\":\"input\",\"shape\":[1,\(last.featureCount)],"
                            + "\"datatype\":\"FP32\",\"data\":[…]}]}'\n")
                            .utf8
                    )
                )
            }
        )
        if let seconds = self.loadTest {
            try await server.start()
            defer { Task { await server.stop() } }
            let report = try await self.runLoad(seconds: seconds, port: server.port!, version: last, server: server)
            await server.stop()
            if self.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.summary)
            }
            if report.errors > 0 { throw ExitCode(1) }
            return
        }
        try await server.runUntilSignalled()
    }

    private func runLoad(
        seconds: Double,
        port: Int,
        version: ModelVersion,
        server: InferenceServer
    ) async throws -> LoadTestReport {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--load-test takes 0-600 seconds") }
        guard (1...4096).contains(self.batch) else { throw ValidationError("--batch takes 1-4096 rows") }
        var rng = SeededRandom(seed: self.seed, key: "serve-model/load")
        let values = (0..<(self.batch * version.featureCount)).map { _ in String(rng.next() % 17) }
        let body =
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[\(self.batch),\(version.featureCount)],"
            + "\"datatype\":\"FP32\",\"data\":[\(values.joined(separator: ","))]}]}"
        guard self.clientThreads >= 0 else { throw ValidationError("--client-threads takes 0 or more") }
        let configuration = LoadTest.Configuration(
            host: self.host,
            port: port,
            path: "/v2/models/\(self.name)/infer",
            body: Array(body.utf8),
            connections: self.connections,
            duration: .milliseconds(Int(seconds * 1000)),
            threads: max(1, self.clientThreads)
        )
        if self.clientThreads == 0 { return try await LoadTest.run(configuration, onLoopsOf: server) }
        return try await LoadTest.run(configuration)
    }

    private func loadStandardizer() throws -> Standardizer? {
        if let path = self.standardizer {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InputError(description: "\(path): no such file or not readable")
            }
            do {
                return try JSONDecoder().decode(Standardizer.self, from: data)
            } catch {
                throw InputError(description: "\(path): not a standardizer {\"mean\":[…],\"std\":[…]}: \(error)")
            }
        }
        if let path = self.fitStandardizer {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw InputError(description: "\(path): no such file or not UTF-8 text")
            }
            let table = try CSVTable.parse(text: text, source: path)
            var rng = SeededRandom(seed: self.seed, key: "train/split")
            let split = try StratifiedSplit(labels: table.labels, testFraction: 0.2, source: path, using: &rng)
            return try Standardizer(fitting: table.selecting(rows: split.train))
        }
        return nil
    }
}
