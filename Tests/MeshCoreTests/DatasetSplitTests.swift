import MeshCore
import Testing

@Suite("Dataset split and standardizer")
struct DatasetSplitTests {
    static let labels = Array(repeating: 0, count: 50) + Array(repeating: 1, count: 30) + Array(repeating: 2, count: 20)

    @Test func stratifiedSplitKeepsEachClassShare() throws {
        var rng = SeededRandom(seed: 1, key: "split")
        let split = try StratifiedSplit(labels: Self.labels, testFraction: 0.2, source: "t", using: &rng)
        #expect(split.test.count == 20 && split.train.count == 80)
        #expect(Set(split.train).isDisjoint(with: split.test))
        #expect(Set(split.train + split.test) == Set(0..<100))
        let testLabels = split.test.map { Self.labels[$0] }
        #expect(testLabels.filter { $0 == 0 }.count == 10)
        #expect(testLabels.filter { $0 == 1 }.count == 6)
        #expect(testLabels.filter { $0 == 2 }.count == 4)
        #expect(split.train == split.train.sorted())
    }

    @Test func theSplitDependsOnlyOnTheSeed() throws {
        var a = SeededRandom(seed: 5, key: "split")
        var b = SeededRandom(seed: 5, key: "split")
        var c = SeededRandom(seed: 6, key: "split")
        let first = try StratifiedSplit(labels: Self.labels, testFraction: 0.2, source: "t", using: &a)
        #expect(try StratifiedSplit(labels: Self.labels, testFraction: 0.2, source: "t", using: &b) == first)
        #expect(try StratifiedSplit(labels: Self.labels, testFraction: 0.2, source: "t", using: &c) != first)
    }

    @Test func impossibleSplitsAreErrors() {
        var rng = SeededRandom(seed: 1, key: "split")
        #expect(throws: DatasetError.self) {
            try StratifiedSplit(labels: [0, 0, 1], testFraction: 0.2, source: "t", using: &rng)
        }
        #expect(throws: DatasetError.self) {
            try StratifiedSplit(labels: [0, 0], testFraction: 1, source: "t", using: &rng)
        }
        #expect(throws: DatasetError.self) {
            try StratifiedSplit(labels: [], testFraction: 0.2, source: "t", using: &rng)
        }
    }

    @Test func standardizerUsesPopulationStatisticsOfTheFittedRows() throws {
        // Columns: [1, 3] (mean 2, std 1) and a constant 5 (std 1 by convention).
        let scaler = try Standardizer(fitting: [1, 5, 3, 5], columns: 2, source: "t")
        #expect(scaler.mean == [2, 5])
        #expect(scaler.std == [1, 1])
        var values: [Float] = [4, 5, 0, 6]
        scaler.apply(to: &values)
        #expect(values == [2, 0, -2, 1])
        #expect(throws: DatasetError.self) { try Standardizer(fitting: [], columns: 2, source: "t") }
        #expect(throws: DatasetError.self) { try Standardizer(fitting: [1, 2, 3], columns: 2, source: "t") }
    }
}
