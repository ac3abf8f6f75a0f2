public import MeshCore

/// Synthetic logical records shaped like a relay run's (`task.done` with role, work, start and an
/// output hash), for the store's benchmarks and crash tests (`meshwork store-bench`,
/// `meshwork store-torture`). Deterministic: record `i` is the same in every process.
public enum JournalWorkload {
    /// The record at `index`.
    public static func record(_ index: UInt64) -> LogicalRecord {
        let token = index / 6
        let stage = index % 6
        let output = Hex.encode((0..<32).map { UInt8(truncatingIfNeeded: index &* 2_654_435_761 &+ UInt64($0) &* 40_503) })
        return LogicalRecord(
            time: SimTime(microseconds: 100 * index + 1_000),
            kind: "task.done",
            subject: "relay/\(token)/\(stage)",
            fields: [
                .init("role", "data"), .init("work", "relay"), .init("start", String(100 * index)), .init("output", output),
            ])
    }

    /// The next `count` entries after the journal `digest` covers, folding them into `digest`.
    public static func entries(count: Int, continuing digest: inout JournalDigest) -> [JournalEntry] {
        (0..<count).map { _ in
            let index = digest.count
            let record = self.record(index)
            return JournalEntry(index: index, record: record, digest: digest.append(record))
        }
    }
}
