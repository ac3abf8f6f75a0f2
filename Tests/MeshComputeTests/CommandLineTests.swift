import Foundation
import MeshProcessTesting
import Testing

/// `meshwork train` and `doctor` as a user runs them: the built binary, its exit status, stdout
/// and stderr.
@Suite("train and doctor commands")
struct CommandLineTests {
    struct Run: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `meshwork` built beside this test bundle (`swift test` builds the executables too).
    static let executable = URL(fileURLWithPath: MeshworkBinary.path)

    /// Runs the binary on a thread of its own: its blocking reads and wait must not hold one of
    /// the cooperative pool's threads (two on a 2-core machine) while other tests wait for them.
    static func run(_ arguments: [String]) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Self.runBlocking(arguments) }) }.start()
        }
    }

    static func runBlocking(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end before waiting, so a full pipe cannot stall the child.
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    static func temporaryFile(_ name: String, _ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "meshwork-cli-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func errorLines(_ run: Run) -> [Substring] {
        run.stderr.split(separator: "\n").filter { $0.hasPrefix("meshwork train: error:") }
    }

    @Test func trainPrintsOneJSONSummaryLine() async throws {
        let data = Fixtures.repositoryRoot.appendingPathComponent("scenarios/data/digits.csv").path
        let run = try await Self.run(["train", data, "--epochs", "5", "--seed", "1", "--quantize", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let last = try #require(run.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        for key in [
            "test_accuracy", "test_macro_f1", "epoch_ms", "int8_test_accuracy", "int8_agreement", "fp32_bytes",
            "int8_bytes", "blas_core",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect((object["test_accuracy"] as? Double ?? 0) > 0.85)
        #expect(run.stderr.contains("epoch 5/5"))
    }

    @Test func aMissingFileIsOneLineAndStatus2() async throws {
        let run = try await Self.run(["train", "/nonexistent/missing.csv"])
        #expect(run.status == 2)
        #expect(Self.errorLines(run) == ["meshwork train: error: /nonexistent/missing.csv: no such file"])
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test func aRaggedRowNamesFileLineAndColumn() async throws {
        let path = try Self.temporaryFile("ragged.csv", "a,b,label\n1,2,0\n3,1\n")
        let run = try await Self.run(["train", path])
        #expect(run.status == 2)
        let lines = Self.errorLines(run)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("ragged.csv:3:2: ragged row") == true, "\(run.stderr)")
    }

    @Test func aNonNumericCellNamesItsPlace() async throws {
        let path = try Self.temporaryFile("words.csv", "a,b,label\n1,2,0\n3,four,1\n")
        let run = try await Self.run(["train", path])
        #expect(run.status == 2)
        #expect(Self.errorLines(run).first?.contains("words.csv:3:2: not a number: \"four\"") == true, "\(run.stderr)")
    }

    @Test func aBadModelIsStatus2() async throws {
        let data = Fixtures.repositoryRoot.appendingPathComponent("scenarios/data/digits.csv").path
        let run = try await Self.run(["train", data, "--model", "mlp:zero"])
        #expect(run.status == 2)
        #expect(Self.errorLines(run).count == 1)
    }

    @Test func doctorReportsTheKernelAndRates() async throws {
        let run = try await Self.run(["doctor", "--size", "256", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let last = try #require(run.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect((object["blas_core"] as? String)?.isEmpty == false)
        #expect((object["gemm_gflops"] as? Double ?? 0) > 0)
        #expect((object["fma_ceiling_gflops"] as? Double ?? 0) > 0)
    }
}
