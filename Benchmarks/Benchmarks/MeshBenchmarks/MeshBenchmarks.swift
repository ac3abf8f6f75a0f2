import Benchmark
import Foundation
import MeshCompute
import MeshCore
import MeshStore

// Meshwork's hot paths, one benchmark each: the wire codec, the state machines' steps, journal
// appends, blob hashing, sgemm (beside the FMA ceiling), an MLP training epoch, and int8 against
// fp32 inference. Wall-clock thresholds are loose (the machines are shared and noisy: 50 % at the
// median); allocation counts are exact and catch most regressions on their own. Names have no
// spaces: package-benchmark 1.38.1 writes threshold files with '_' for ' ' but reads them back
// under the name as given, so a name with spaces never finds its thresholds.

private var noisy: BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 50.0], absolute: [:]) }
private var exact: BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 5.0], absolute: [.p50: 2]) }

private func configuration(
    scaling: BenchmarkScalingFactor = .kilo,
    seconds: Int = 1,
    metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
) -> Benchmark.Configuration {
    .init(
        metrics: metrics, warmupIterations: 3, scalingFactor: scaling, maxDuration: .seconds(seconds), maxIterations: 100_000,
        thresholds: Dictionary(uniqueKeysWithValues: metrics.map { ($0, $0 == .mallocCountTotal ? exact : noisy) }))
}

private let alice = AgentID(unchecked: "data-1")
private let bob = AgentID(unchecked: "model-1")
private let task = TaskID(unchecked: "relay/000001/0")

private func envelope(body: Int) -> Envelope {
    Envelope(
        kind: .result, flags: [.sequenced, .acknowledges], sender: alice, senderIncarnation: 7, receiver: .agent(bob),
        receiverIncarnation: 9, sequence: 42, ack: 41, simTime: SimTime(microseconds: 1_000), body: [UInt8](repeating: 0x6D, count: body))
}

private func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> Matrix {
    var rng = SeededRandom(seed: seed, key: "bench")
    let values = (0..<(rows * columns)).map { _ in Float(rng.next(below: 2001)) / 1000 - 1 }
    return try! Matrix(rows: rows, columns: columns, values: values)
}

/// A digits-shaped training set: 1,437 rows of 64 features, 10 classes.
private func digitsLike() -> LabeledData {
    let features = randomMatrix(rows: 1_437, columns: 64, seed: 1)
    let labels = (0..<1_437).map { $0 % 10 }
    return try! LabeledData(features: features, labels: labels, classLabels: Array(0...9))
}

let benchmarks: @Sendable () -> Void = {
    // MARK: Codec

    Benchmark("Envelope_encode_64B", configuration: configuration()) { benchmark in
        let message = envelope(body: 64)
        for _ in benchmark.scaledIterations { blackHole(message.encoded()) }
    }

    Benchmark("Envelope_decode_64B", configuration: configuration()) { benchmark in
        let bytes = envelope(body: 64).encoded()
        for _ in benchmark.scaledIterations { blackHole(try! Envelope(decoding: bytes)) }
    }

    Benchmark("Award_encode_and_decode", configuration: configuration()) { benchmark in
        let award = Award(task: task, award: 3, work: "relay.hash", input: [UInt8](repeating: 1, count: 32))
        for _ in benchmark.scaledIterations { blackHole(try! Award(decoding: award.encoded())) }
    }

    // MARK: State machines

    Benchmark("ReliableLink_send_receive_ack", configuration: configuration()) { benchmark in
        var sender = ReliableLink(local: alice, localIncarnation: 1, peer: bob, peerIncarnation: 1)
        var receiver = ReliableLink(local: bob, localIncarnation: 1, peer: alice, peerIncarnation: 1)
        var actions: [ReliableLink.Action] = []
        var back: [ReliableLink.Action] = []
        let body = [UInt8](repeating: 0x6D, count: 64)
        var now = MonotonicTime(nanoseconds: 1)
        for _ in benchmark.scaledIterations {
            now = now.adding(.microseconds(1))
            sender.send(kind: .result, body: body, simTime: .zero, at: now, into: &actions)
            for case .transmit(let envelope) in actions { receiver.receive(envelope, at: now, into: &back) }
            actions.removeAll(keepingCapacity: true)
            receiver.tick(at: now.adding(.milliseconds(10)), into: &back)
            for case .transmit(let ack) in back { sender.receive(ack, at: now, into: &actions) }
            back.removeAll(keepingCapacity: true)
            actions.removeAll(keepingCapacity: true)
        }
        blackHole(sender.outstanding)
    }

    Benchmark("Negotiation_call_bids_award_accept_result", configuration: configuration()) { benchmark in
        let a = AgentRef(id: alice, incarnation: 1)
        let b = AgentRef(id: bob, incarnation: 1)
        let now = MonotonicTime(nanoseconds: 1)
        for _ in benchmark.scaledIterations {
            var negotiation = Negotiation(task: task, role: .data, work: "w", input: [7])
            blackHole(negotiation.start(candidates: [a, b], at: now))
            blackHole(negotiation.bidReceived(Bid(task: task, round: 1, freeSlots: 1), from: a, at: now))
            let awarded = negotiation.bidReceived(Bid(task: task, round: 1, freeSlots: 2), from: b, at: now)
            for case .award(let award, let to) in awarded {
                blackHole(negotiation.acceptReceived(award: award.award, from: to, at: now))
                blackHole(negotiation.resultReceived(TaskResult(task: task, award: award.award, outcome: .done([9])), from: to, at: now))
            }
        }
    }

    Benchmark("Contractor_call_award_finish_ack", configuration: configuration()) { benchmark in
        var contractor = Contractor(capacity: 4) { _ in true }
        for iteration in benchmark.scaledIterations {
            let id = TaskID(unchecked: "t/\(iteration)")
            blackHole(contractor.callReceived(CallForProposals(task: id, round: 1, work: "w")))
            blackHole(contractor.awardReceived(Award(task: id, award: 1, work: "w", input: [])))
            blackHole(contractor.workFinished(id, award: 1, outcome: .done([1])))
            contractor.resultAcknowledged(AwardReference(task: id, award: 1))
        }
    }

    // MARK: Journal

    Benchmark("JournalDigest_append", configuration: configuration()) { benchmark in
        var digest = JournalDigest()
        let record = LogicalRecord(
            time: SimTime(microseconds: 5_000), kind: "task.done", subject: task.rawValue,
            fields: [.init("output", String(repeating: "ab", count: 32)), .init("by", "data")])
        for _ in benchmark.scaledIterations { blackHole(digest.append(record)) }
    }

    Benchmark(
        "SQLite_journal_append_64_records", configuration: configuration(scaling: .one, seconds: 2)
    ) { benchmark in
        let directory = NSTemporaryDirectory() + "meshwork-bench-journal-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try RunStore.create(at: directory, run: RunInfo(id: "bench", scenario: "bench", seed: 1))
        defer { try? store.close() }
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        var index: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var entries: [JournalEntry] = []
            for _ in 0..<64 {
                let record = LogicalRecord(
                    time: SimTime(microseconds: index), kind: "task.done", subject: "relay/\(index)/0",
                    fields: [.init("output", String(repeating: "ab", count: 32))])
                entries.append(JournalEntry(index: index, record: record, digest: digest.append(record)))
                index += 1
            }
            try journal.appendLogical(entries)
        }
        benchmark.stopMeasurement()
    }

    // MARK: Blobs

    Benchmark(
        "BlobHash_SHA-256_1MiB", configuration: configuration(scaling: .one, metrics: [.wallClock, .throughput])
    ) { benchmark in
        let blob = [UInt8](repeating: 0x5A, count: 1 << 20)
        for _ in benchmark.scaledIterations { blackHole(BlobHash(of: blob)) }
    }

    // MARK: Compute

    Benchmark(
        "sgemm_512_OpenBLAS", configuration: configuration(scaling: .one, metrics: [.wallClock, .throughput])
    ) { benchmark in
        BLAS.setThreadCount(1)
        let a = randomMatrix(rows: 512, columns: 512, seed: 2)
        let b = randomMatrix(rows: 512, columns: 512, seed: 3)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try a.multiplied(by: b)) }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "FMA_ceiling_probe_1M_rounds",
        configuration: configuration(scaling: .one, metrics: [.wallClock, .throughput])
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PerformanceProbe.fmaCeiling(iterations: 1_000_000, repeats: 1))
        }
    }

    Benchmark(
        "MLP_64-64-10_training_epoch_1437_rows",
        configuration: configuration(scaling: .one, seconds: 2, metrics: [.wallClock, .throughput, .mallocCountTotal])
    ) { benchmark in
        BLAS.setThreadCount(1)
        let data = digitsLike()
        let model = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: Array(0...9), seed: 1)
        let single = TrainingConfiguration(epochs: 1, seed: 1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try Trainer.train(model, on: data, configuration: single)) }
        benchmark.stopMeasurement()
    }

    let inferenceRows = randomMatrix(rows: 32, columns: 64, seed: 4)
    let fp32Model = MLP(architecture: .mlp(hidden: [64]), inputs: 64, classLabels: Array(0...9), seed: 5)
    let int8Model = QuantizedMLP(quantizing: fp32Model)

    Benchmark("Inference_fp32_32_rows", configuration: configuration()) { benchmark in
        BLAS.setThreadCount(1)
        for _ in benchmark.scaledIterations { blackHole(try fp32Model.logits(inferenceRows)) }
    }

    Benchmark("Inference_int8_32_rows", configuration: configuration()) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try int8Model.logits(inferenceRows)) }
    }
}
