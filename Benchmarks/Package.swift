// swift-tools-version: 6.1
import PackageDescription

// package-benchmark suites for Meshwork's hot paths, in a package of their own so that the main
// build (`make test`) never compiles package-benchmark. Run with `make bench` from the root, or
// `swift package benchmark` here; `swift package benchmark thresholds check` compares a run with
// the thresholds checked in under Thresholds/ (see docs/BENCHMARKS.md).
let package = Package(
    name: "meshwork-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "meshwork", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "MeshBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MeshCore", package: "meshwork"),
                .product(name: "MeshCompute", package: "meshwork"),
                .product(name: "MeshStore", package: "meshwork"),
            ],
            path: "Benchmarks/MeshBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
