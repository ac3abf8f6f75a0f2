import Foundation
import MeshCore
import MeshZeroMQ
import Subprocess
import SystemPackage

/// The relay benchmarks of `meshwork bench`: the raw libzmq baseline (5 hops, 6 processes,
/// PUSH/PULL, no envelope, no reliability) measured in the same run as Meshwork's own figures.
public enum RelayBenchmark {
    /// One stage of the raw relay, run by `meshwork bench-stage` in its own process.
    public enum Stage: String, Sendable, CaseIterable {
        case source, hop, sink
    }

    /// What a raw relay measured.
    public struct RawResult: Sendable, Codable {
        /// Messages that reached the sink.
        public var messages: Int
        /// Seconds from the sink's first message to the end of the stream.
        public var seconds: Double
        /// Messages per second at the sink.
        public var messagesPerSecond: Double
    }

    /// Runs one stage in this process (blocking its thread) and returns its report as a JSON line.
    public static func runStage(_ stage: Stage, input: String?, output: String?, count: Int, size: Int) throws -> String {
        let report: RawRelay.Report
        switch stage {
        case .source:
            report = try RawRelay.source(to: try RawRelay.Link(output ?? ""), count: count, size: size)
        case .hop:
            report = try RawRelay.hop(from: try RawRelay.Link(input ?? ""), to: try RawRelay.Link(output ?? ""))
        case .sink:
            report = try RawRelay.sink(from: try RawRelay.Link(input ?? ""))
        }
        let seconds = Double(report.elapsed.components.seconds) + Double(report.elapsed.components.attoseconds) * 1e-18
        let result = RawResult(messages: report.messages, seconds: seconds, messagesPerSecond: report.messagesPerSecond)
        return String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
    }

    /// Runs the raw 5-hop relay as 6 processes of this binary over ipc:// and returns the sink's figure.
    public static func runRaw(messages: Int, size: Int) async throws -> RawResult {
        let directory = "/tmp/meshwork-raw-\(ProcessEnvironment.pid)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let links = (1...5).map { "ipc://\(directory)/l\($0)" }
        var stages: [[String]] = [["--stage", "sink", "--input", links[4]]]
        for hop in (1...4).reversed() {
            stages.append(["--stage", "hop", "--input", links[hop - 1], "--output", links[hop]])
        }
        stages.append(["--stage", "source", "--output", links[0], "--count", String(messages), "--size", String(size)])
        let executable = ProcessEnvironment.executablePath
        let outputs = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, arguments) in stages.enumerated() {
                group.addTask {
                    let result = try await Subprocess.run(
                        .path(FilePath(executable)), arguments: Arguments(["bench-stage"] + arguments),
                        output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
                    guard result.terminationStatus.isSuccess else {
                        throw RuntimeError(
                            .process, "raw relay stage \(arguments[1]) failed (\(result.terminationStatus)): \(result.standardError)")
                    }
                    return (index, result.standardOutput)
                }
            }
            var outputs: [Int: String] = [:]
            for try await (index, output) in group { outputs[index] = output }
            return outputs
        }
        guard let sink = outputs[0]?.split(separator: "\n").last else {
            throw RuntimeError(.process, "the raw relay's sink printed nothing")
        }
        return try JSONDecoder().decode(RawResult.self, from: Data(sink.utf8))
    }
}
