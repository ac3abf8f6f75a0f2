import ArgumentParser
import Foundation
import Logging
import MeshCore
import MeshRuntime
import MeshStore
import Subprocess
import SystemPackage

/// `meshwork bench`: the whole mesh measured, each figure next to its limit measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the mesh: relay, hand-offs, latency, fleet, inference and compute, each beside its same-run limit.",
        discussion: """
            Parts (--only): relay, handoffs, latency, fleet, inference, compute. Every figure is \
            measured here, in processes of this binary; --json prints one object as the last line.
            """
    )

    /// The parts, in the order they run.
    enum Part: String, CaseIterable, ExpressibleByArgument {
        case relay, handoffs, latency, fleet, inference, compute
    }

    @Option(name: .long, help: "Comma-separated parts to run (default: all): relay,handoffs,latency,fleet,inference,compute.")
    var only: String?

    @Option(name: .long, help: "relay: messages through the raw libzmq relay.")
    var messages = 1_000_000

    @Option(name: .long, help: "relay: messages through Meshwork's relay (envelope + reliability).")
    var meshMessages = 300_000

    @Flag(name: .long, help: "relay: also run Meshwork's relay with one envelope per ZeroMQ message (no batches).")
    var relayUnbatched = false

    @Option(name: .long, help: "handoffs: tokens of the relay scenario (6 negotiated hand-offs each).")
    var tokens = 10_000

    @Option(name: .long, help: "latency: negotiated hand-offs per second, paced by the wall clock.")
    var latencyRate = 1_000

    @Option(name: .long, help: "latency: seconds of paced hand-offs.")
    var latencySeconds = 10

    @Option(name: .long, help: "fleet: use cases through the whole lifecycle at once (simulated time).")
    var fleet = 1_000

    @Option(name: .long, help: "inference: seconds of load for each of batch 1 and batch 32.")
    var inferSeconds = 5.0

    @Option(name: .long, help: "inference: connections of the batch-1 load.")
    var connections = 64

    @Option(
        name: .long,
        help: "inference: the load generator's own event-loop threads (default 1); 0 runs it on the server's event loops in the same process."
    )
    var inferClientThreads = 1

    @Option(name: .long, help: "compute: the side of the square sgemm.")
    var gemmSize = 1024

    @Option(name: .long, help: "compute: epochs of the digits MLP (its mean epoch time is reported).")
    var epochs = 30

    @Option(name: .long, help: "Where the benchmark's run directories go.")
    var runs = "runs"

    @Flag(name: .long, help: "Print the figures as one JSON object (the last line of stdout; the table goes to stderr).")
    var json = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        _ = try self.parts()
        guard self.messages > 0, self.meshMessages > 0, self.tokens > 0 else {
            throw ValidationError("--messages, --mesh-messages and --tokens must be positive")
        }
        guard self.latencyRate > 0, self.latencySeconds > 0, self.fleet > 0, self.connections > 0 else {
            throw ValidationError("--latency-rate, --latency-seconds, --fleet and --connections must be positive")
        }
        guard self.inferSeconds > 0, self.inferSeconds <= 600 else { throw ValidationError("--infer-seconds must be in (0, 600]") }
        guard self.inferClientThreads >= 0 else { throw ValidationError("--infer-client-threads takes 0 or more") }
        guard (64...8192).contains(self.gemmSize) else { throw ValidationError("--gemm-size must be in 64...8192") }
        guard (2...1000).contains(self.epochs) else { throw ValidationError("--epochs must be in 2...1000") }
    }

    func parts() throws -> [Part] {
        guard let only = self.only else { return Part.allCases }
        var chosen: Set<Part> = []
        for name in only.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let part = Part(rawValue: name) else {
                throw ValidationError(
                    "--only: unknown part '\(name)' (expected \(Part.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            chosen.insert(part)
        }
        guard !chosen.isEmpty else { throw ValidationError("--only names no part") }
        return Part.allCases.filter(chosen.contains)
    }

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .warning)
        try await CommandFailure.guarding {
            let started = ContinuousClock.now
            let work = "\(self.runs)/bench-\(ProcessEnvironment.pid)"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            var bench = BenchFigures()
            bench.text("machine: \(BenchMachine.describe())")
            for part in try self.parts() {
                let partStart = ContinuousClock.now
                ProcessEnvironment.emitError("bench: \(part.rawValue) …")
                switch part {
                case .relay: try await self.relay(&bench)
                case .handoffs: try await self.handoffs(&bench, work: work, logger: logger)
                case .latency: try await self.latency(&bench, work: work, logger: logger)
                case .fleet: try await self.fleetRun(&bench, work: work, logger: logger)
                case .inference: try await self.inference(&bench, work: work)
                case .compute: try await self.compute(&bench, work: work)
                }
                bench.set("\(part.rawValue)_seconds", Self.seconds(ContinuousClock.now - partStart), digits: 2)
            }
            bench.set("bench_seconds", Self.seconds(ContinuousClock.now - started), digits: 2)
            if self.json {
                ProcessEnvironment.emitError(bench.table)
                print(try bench.jsonLine())
            } else {
                print(bench.table)
            }
        }
    }

    // MARK: - Relay

    private func relay(_ bench: inout BenchFigures) async throws {
        let raw = try await RelayBenchmark.runRaw(messages: self.messages, size: 64)
        let mesh = try await MeshRelayBenchmark.run(messages: self.meshMessages, size: 64, hops: 5)
        bench.set("raw_relay_msgs_per_s", raw.messagesPerSecond.rounded())
        bench.set("relay_msgs_per_s", mesh.messagesPerSecond.rounded())
        let ratio = mesh.messagesPerSecond / max(1, raw.messagesPerSecond)
        bench.set("relay_vs_raw_ratio", ratio, digits: 4)
        bench.set("relay_retransmitted", Double(mesh.retransmitted))
        bench.set("relay_forwarded", Double(mesh.forwarded))
        bench.set("relay_forwarded_batches", Double(mesh.forwardedBatches))
        bench.row(
            "relay, 5 hops / 6 processes, 64 B, envelope + reliability", Self.count(mesh.messagesPerSecond) + " msgs/s",
            "raw libzmq same shape " + Self.count(raw.messagesPerSecond) + " msgs/s",
            String(format: "%.3f× (goal ≥ 0.5×)", ratio))
        guard self.relayUnbatched else { return }
        let unbatched = try await MeshRelayBenchmark.run(messages: self.meshMessages, size: 64, hops: 5, batching: false)
        bench.set("relay_unbatched_msgs_per_s", unbatched.messagesPerSecond.rounded())
        bench.set("relay_unbatched_vs_raw_ratio", unbatched.messagesPerSecond / max(1, raw.messagesPerSecond), digits: 4)
        bench.row(
            "relay, the same with one envelope per ZeroMQ message", Self.count(unbatched.messagesPerSecond) + " msgs/s",
            "raw libzmq same shape " + Self.count(raw.messagesPerSecond) + " msgs/s",
            String(format: "%.3f×", unbatched.messagesPerSecond / max(1, raw.messagesPerSecond)))
    }

    // MARK: - Hand-offs

    private func handoffs(_ bench: inout BenchFigures, work: String, logger: Logger) async throws {
        let path = "\(work)/handoffs.yaml"
        try BenchScenarios.relay(tokens: self.tokens, interarrivalMicroseconds: 50, durations: (1_000, 5_000), wall: false)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let (summary, measured, latency) = try await self.up(path, logger: logger)
        bench.set("handoffs_per_s", summary.handoffsPerSecond.rounded())
        bench.set("handoff_messages_per_s", (summary.handoffsPerSecond * 6).rounded())
        bench.set("handoffs", Double(summary.handoffs))
        if let latency {
            bench.set("handoff_saturated_p50_ms", latency.p50, digits: 3)
            bench.set("handoff_saturated_p99_ms", latency.p99, digits: 3)
        }
        bench.set("handoff_processes", Double(measured.peakResidentKilobytes.count))
        bench.row(
            "negotiated, journaled hand-offs (\(summary.handoffs) through `up`)", Self.count(summary.handoffsPerSecond) + " /s",
            "goal 20,000 /s; Ray 1,864 /s (plain calls)", String(format: "%.2f× goal", summary.handoffsPerSecond / 20_000))
    }

    // MARK: - Latency

    private func latency(_ bench: inout BenchFigures, work: String, logger: Logger) async throws {
        let tokens = max(1, self.latencyRate * self.latencySeconds / 6)
        let path = "\(work)/latency.yaml"
        try BenchScenarios.relay(
            tokens: tokens, interarrivalMicroseconds: UInt64(6_000_000 / self.latencyRate), durations: (0, 0), wall: true
        ).write(toFile: path, atomically: true, encoding: .utf8)
        let (summary, _, latency) = try await self.up(path, logger: logger)
        guard let latency else { throw RuntimeError(.process, "the latency run recorded no hand-off latency") }
        bench.set("handoff_p50_ms", latency.p50, digits: 3)
        bench.set("handoff_p90_ms", latency.p90, digits: 3)
        bench.set("handoff_p99_ms", latency.p99, digits: 3)
        bench.set("handoff_p999_ms", latency.p999, digits: 3)
        bench.set("handoff_max_ms", latency.max, digits: 3)
        bench.set("latency_handoffs_per_s", summary.handoffsPerSecond.rounded())
        bench.row(
            "hand-off latency at \(self.latencyRate)/s (CFP → result journaled)",
            String(format: "p50 %.3f ms, p99 %.3f ms", latency.p50, latency.p99), "goal p50 ≤ 1 ms, p99 ≤ 5 ms",
            String(format: "%.2f× / %.2f× goal", latency.p50 / 1, latency.p99 / 5))
    }

    // MARK: - Fleet

    private func fleetRun(_ bench: inout BenchFigures, work: String, logger: Logger) async throws {
        let path = try BenchScenarios.fleet(useCases: self.fleet, directory: "\(work)/fleet")
        let (summary, measured, _) = try await self.up(path, logger: logger)
        let finished = summary.useCases.filter { $0.state != "running" && $0.state != "failed" }.count
        let perMinute = summary.wallSeconds > 0 ? Double(finished) / summary.wallSeconds * 60 : 0
        let agents = measured.peakResidentKilobytes.filter { $0.key != "coordinator" }
        let maxAgent = Double(agents.values.max() ?? 0) / 1024
        bench.set("fleet_use_cases", Double(self.fleet))
        bench.set("fleet_finished", Double(finished))
        bench.set("fleet_handoffs", Double(summary.handoffs))
        bench.set("fleet_sim_days", summary.simSeconds / 86_400, digits: 2)
        bench.set("fleet_wall_s", summary.wallSeconds, digits: 2)
        bench.set("fleet_lifecycles_per_min", perMinute.rounded())
        bench.set("max_agent_rss_mb", maxAgent, digits: 1)
        // The private part (heap, stacks): VmHWM also counts the ~34 MB of the binary's and the
        // libraries' pages that every process maps and shares.
        let privatePeaks = measured.peakPrivateKilobytes.filter { $0.key != "coordinator" }
        bench.set("max_agent_private_mb", Double(privatePeaks.values.max() ?? 0) / 1024, digits: 1)
        let peaks = measured.peakResidentKilobytes.sorted { $0.key < $1.key }
        bench.text("peak RSS (MB): " + peaks.map { "\($0.key) " + String(format: "%.1f", Double($0.value) / 1024) }.joined(separator: ", "))
        bench.text(
            "peak private RSS, RssAnon sampled every 100 ms (MB): "
                + measured.peakPrivateKilobytes.sorted { $0.key < $1.key }.map { "\($0.key) " + String(format: "%.1f", Double($0.value) / 1024) }
                .joined(separator: ", "))
        bench.set("coordinator_rss_mb", Double(measured.peakResidentKilobytes["coordinator"] ?? 0) / 1024, digits: 1)
        bench.set("startup_s", measured.startupSeconds, digits: 3)
        bench.set("startup_processes", Double(measured.peakResidentKilobytes.count))
        bench.row(
            "fleet: \(finished)/\(self.fleet) use cases, whole lifecycle", Self.count(perMinute) + " lifecycles/min",
            "\(summary.handoffs) hand-offs, \(String(format: "%.1f", summary.simSeconds / 86_400)) simulated days",
            String(format: "%.1f s wall", summary.wallSeconds))
        bench.row(
            "peak RSS per agent process (VmHWM)", String(format: "%.1f MB", maxAgent), "goal ≤ 40 MB",
            String(format: "%.2f× goal", maxAgent / 40))
        bench.row(
            "start-up to all \(measured.peakResidentKilobytes.count) processes ready", String(format: "%.3f s", measured.startupSeconds),
            "goal ≤ 1 s", String(format: "%.2f× goal", measured.startupSeconds))
    }

    // MARK: - Inference and compute

    private func inference(_ bench: inout BenchFigures, work: String) async throws {
        let weights = try await self.trainedWeights(work: work, bench: &bench)
        let one = try await Self.child([
            "serve-model", weights, weights + ".int8", "--name", "digits", "--load-test", String(self.inferSeconds),
            "--connections", String(self.connections), "--batch", "1", "--client-threads", String(self.inferClientThreads),
            "--json",
        ])
        let batch = try await Self.child([
            "serve-model", weights, weights + ".int8", "--name", "digits", "--load-test", String(self.inferSeconds),
            "--connections", "8", "--batch", "32", "--client-threads", String(self.inferClientThreads), "--json",
        ])
        let rps = one.number("requestsPerSecond")
        let p99 = one.number("p99Milliseconds")
        bench.set("infer_rps", rps.rounded())
        bench.set("infer_p50_ms", one.number("p50Milliseconds"), digits: 3)
        bench.set("infer_p99_ms", p99, digits: 3)
        bench.set("infer_errors", one.number("non2xx") + one.number("connectionErrors"))
        bench.set("infer_batch32_rps", batch.number("requestsPerSecond").rounded())
        bench.set("infer_batch32_rows_per_s", (batch.number("requestsPerSecond") * 32).rounded())
        bench.set("infer_batch32_p99_ms", batch.number("p99Milliseconds"), digits: 3)
        bench.row(
            "inference, batch 1, \(self.connections) connections (int8 MLP)", Self.count(rps) + " req/s",
            String(format: "p99 %.2f ms; goal ≥ 44,000 req/s, p99 ≤ 5 ms; FastAPI 8,800", p99),
            String(format: "%.2f× goal", rps / 44_000))
        bench.row(
            "inference, batch 32, 8 connections", Self.count(batch.number("requestsPerSecond") * 32) + " rows/s",
            String(format: "p99 %.2f ms", batch.number("p99Milliseconds")), "")
    }

    /// Trains the digits MLP once per bench run (the compute part's epoch time comes from it too).
    private func trainedWeights(work: String, bench: inout BenchFigures) async throws -> String {
        let weights = "\(work)/digits.mwnn"
        if FileManager.default.fileExists(atPath: weights + ".int8") { return weights }
        let trained = try await Self.child([
            "train", "scenarios/data/digits.csv", "--model", "mlp:64", "--epochs", String(self.epochs), "--seed", "0",
            "--quantize", "--output", weights, "--json",
        ])
        bench.set("mlp_epoch_ms", trained.number("epoch_ms"), digits: 3)
        bench.set("mlp_epoch_cpu_ms", trained.number("epoch_cpu_ms"), digits: 3)
        bench.set("mlp_test_accuracy", trained.number("test_accuracy"), digits: 4)
        bench.row(
            "digits MLP 64→64→10, one epoch (\(Int(trained.number("train_rows"))) rows)",
            String(format: "%.3f ms (cpu %.3f ms)", trained.number("epoch_ms"), trained.number("epoch_cpu_ms")),
            "numpy 4.65 ms (docs/COMPUTE.md)", String(format: "%.2f× numpy", trained.number("epoch_ms") / 4.65))
        return weights
    }

    private func compute(_ bench: inout BenchFigures, work: String) async throws {
        let doctor = try await Self.child(["doctor", "--size", String(self.gemmSize), "--json"])
        let gemm = doctor.number("gemm_gflops")
        let fma = doctor.number("fma_ceiling_gflops")
        bench.set("gemm_gflops", gemm, digits: 2)
        bench.set("gemm_gflops_all_cores", doctor.number("gemm_gflops_all_cores"), digits: 2)
        bench.set("fma_ceiling_gflops", fma, digits: 2)
        bench.set("gemm_vs_fma_ratio", fma > 0 ? gemm / fma : 0, digits: 4)
        bench.row(
            "sgemm \(self.gemmSize), 1 thread (\(doctor.text("blas_core") ?? "?"))", String(format: "%.1f GFLOPS", gemm),
            String(format: "FMA ceiling %.1f GFLOPS (%@)", fma, doctor.text("fma_isa") ?? "?"),
            String(format: "%.3f×", fma > 0 ? gemm / fma : 0))
        _ = try await self.trainedWeights(work: work, bench: &bench)
    }

    // MARK: - Plumbing

    /// Runs a scenario through `meshwork up` (the supervisor, here) and returns its summary, the
    /// start-up and memory figures, and the coordinator's hand-off latency percentiles.
    private func up(_ path: String, logger: Logger) async throws -> (RunSummary, Supervisor.Measurements, LatencyFigures?) {
        let scenario = try ScenarioLoader.load(path: path)
        let run = try RunDirectory.create(root: self.runs, scenario: scenario, scenarioPath: path)
        let endpoint = try UpCommand.freshIPCEndpoint(run: run)
        defer { UpCommand.removeIPCDirectory(endpoint) }
        var options = Supervisor.Options()
        options.showProgress = false
        let supervisor = Supervisor(scenario: scenario, scenarioPath: path, run: run, endpoint: endpoint, options: options, logger: logger)
        let summary = try await supervisor.run()
        try run.writeSummary(summary.jsonLine())
        guard summary.isClean else {
            throw RuntimeError(.process, "the bench run \(run.path) was not clean: lost \(summary.lost), failed \(summary.failedTasks)")
        }
        let store = try RunStore.openReadOnly(run: run)
        defer { try? store.close() }
        let latency = try store.physicalEvents(kind: "handoff-latency").last.map { LatencyFigures(detail: $0.detail) }
        return (summary, await supervisor.measurements, latency)
    }

    /// Runs this binary with `arguments` and decodes the JSON object on the last line of its stdout.
    static func child(_ arguments: [String]) async throws -> ChildFigures {
        let result = try await Subprocess.run(
            .path(FilePath(ProcessEnvironment.executablePath)), arguments: Arguments(arguments),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        let output = result.standardOutput
        guard result.terminationStatus.isSuccess,
            let line = output.split(separator: "\n").last,
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw RuntimeError(
                .process, "`meshwork \(arguments.joined(separator: " "))` failed (\(result.terminationStatus)): "
                    + (result.standardError).suffix(2000))
        }
        return ChildFigures(values: object)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    static func count(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        return formatter.string(from: NSNumber(value: value.rounded())) ?? String(Int(value))
    }
}

/// A child's JSON figures.
struct ChildFigures {
    let values: [String: Any]

    func number(_ key: String) -> Double { (self.values[key] as? NSNumber)?.doubleValue ?? 0 }
    func text(_ key: String) -> String? { self.values[key] as? String }
}

/// The coordinator's `handoff-latency` physical event, in milliseconds.
struct LatencyFigures {
    var p50 = 0.0, p90 = 0.0, p99 = 0.0, p999 = 0.0, max = 0.0

    init(detail: String) {
        for field in detail.split(separator: " ") {
            let parts = field.split(separator: "=")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let ms = value / 1e6
            switch parts[0] {
            case "p50_ns": self.p50 = ms
            case "p90_ns": self.p90 = ms
            case "p99_ns": self.p99 = ms
            case "p999_ns": self.p999 = ms
            case "max_ns": self.max = ms
            default: break
            }
        }
    }
}

/// The figures of one bench run: JSON values and the table for people.
struct BenchFigures {
    private(set) var values: [String: Double] = [:]
    private(set) var rows: [(String, String, String, String)] = []
    private(set) var notes: [String] = []

    mutating func set(_ key: String, _ value: Double, digits: Int = 0) {
        let scale = pow(10, Double(digits))
        self.values[key] = value.isFinite ? (value * scale).rounded() / scale : 0
    }

    mutating func row(_ what: String, _ figure: String, _ limit: String, _ ratio: String) {
        self.rows.append((what, figure, limit, ratio))
    }

    mutating func text(_ note: String) { self.notes.append(note) }

    func jsonLine() throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: self.values, options: [.sortedKeys]), as: UTF8.self)
    }

    var table: String {
        var lines = self.notes
        lines.append("| figure | measured | same-run limit / goal | ratio |")
        lines.append("|---|---|---|---|")
        for (what, figure, limit, ratio) in self.rows { lines.append("| \(what) | \(figure) | \(limit) | \(ratio) |") }
        return lines.joined(separator: "\n")
    }
}

/// The machine a bench ran on, for its report.
enum BenchMachine {
    static func describe() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }.map {
            $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
        } ?? "unknown CPU"
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3)
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(model), load \(load.joined(separator: " "))"
    }
}

/// `meshwork bench-stage`: one stage of a relay benchmark (started by `meshwork bench`).
struct BenchStageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-stage", abstract: "One stage of a relay benchmark.", shouldDisplay: false)

    @Flag(name: .long, help: "Meshwork's relay (envelope + reliability through the forwarder) instead of raw libzmq.")
    var mesh = false
    @Option(name: .long) var stage: String?
    @Option(name: .long) var input: String?
    @Option(name: .long) var output: String?
    @Option(name: .long) var index = 0
    @Option(name: .long) var hops = 5
    @Option(name: .long) var connect: String?
    @Option(name: .long) var count = 0
    @Option(name: .long) var size = 64
    @Flag(name: .long, help: "--mesh: one envelope per ZeroMQ message (no batches).") var unbatched = false

    func run() async throws {
        if self.mesh {
            guard let connect = self.connect, (0...self.hops).contains(self.index), self.count > 0 else {
                throw ValidationError("--mesh needs --connect, --count > 0 and --index in 0...--hops")
            }
            print(try await MeshRelayBenchmark.runStage(
                    index: self.index, hops: self.hops, connect: connect, count: self.count, size: self.size,
                    batching: !self.unbatched))
            return
        }
        guard let stage = self.stage.flatMap(RelayBenchmark.Stage.init(rawValue:)) else {
            throw ValidationError("--stage must be source, hop or sink")
        }
        print(try RelayBenchmark.runStage(stage, input: self.input, output: self.output, count: self.count, size: self.size))
    }
}
