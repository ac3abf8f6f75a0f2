// swift-tools-version: 6.2
import PackageDescription

/// Settings every Meshwork target shares (STYLE.md §9, as hummingbird's Package.swift).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "meshwork",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "meshwork", targets: ["meshwork"]),
        // Libraries for the nested Benchmarks/ package (package-benchmark suites); the CLI is the product people use.
        .library(name: "MeshCore", targets: ["MeshCore"]),
        .library(name: "MeshCompute", targets: ["MeshCompute"]),
        .library(name: "MeshStore", targets: ["MeshStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics.git", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // System-library shims: nothing but the C module maps (STYLE.md §2).
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas"),

        // The pure core: messages, codec, state machines, clock, RNG, digest. No C, no I/O.
        .target(
            name: "MeshCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The only importer of libzmq.
        .target(
            name: "MeshZeroMQ",
            dependencies: [
                "MeshCore", "CZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // The only importer of OpenBLAS: tensors, training, quantization, evaluation.
        .target(
            name: "MeshCompute",
            dependencies: [
                "MeshCore", "COpenBLAS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // The only importer of SQLite (GRDB): the run database, the journal sink, the artifact store.
        .target(
            name: "MeshStore",
            dependencies: [
                "MeshCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // One actor per role, and the coordinator; they see MeshCore's ports only.
        .target(
            name: "MeshAgents",
            dependencies: [
                "MeshCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: process host, supervisor, launcher, scenario loading.
        .target(
            name: "MeshRuntime",
            dependencies: [
                "MeshCore", "MeshAgents", "MeshZeroMQ", "MeshStore", "MeshCompute", "MeshServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: the inference API (KServe v2 shape) on SwiftNIO's HTTP/1.1 codec, and its load test.
        .target(
            name: "MeshServer",
            dependencies: [
                "MeshCore", "MeshCompute", "MeshAgents",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: the oversight page and /metrics over a run's store (read-only) and its live gates.
        .target(
            name: "MeshOversight",
            dependencies: [
                "MeshCore", "MeshStore", "MeshRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support: the in-memory transport, a manual clock.
        .target(
            name: "MeshTesting",
            dependencies: [
                "MeshCore", "MeshAgents",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support for processes: the built `meshwork` binary run as a user runs it, with a
        // timeout and its pid killed; shared by the test targets that start processes.
        .target(name: "MeshProcessTesting", swiftSettings: swiftSettings),
        .executableTarget(
            name: "meshwork",
            dependencies: [
                "MeshCore", "MeshAgents", "MeshRuntime", "MeshCompute", "MeshStore", "MeshServer", "MeshOversight",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "MeshAgentsTests",
            dependencies: ["MeshCore", "MeshAgents", "MeshTesting", "MeshStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeshworkTests",
            dependencies: ["MeshCore", "MeshRuntime", "MeshStore", "MeshServer", "MeshZeroMQ", "MeshProcessTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MeshCoreTests", dependencies: ["MeshCore", "MeshTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeshTransportTests", dependencies: ["MeshCore", "MeshZeroMQ", "MeshTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MeshStoreTests",
            dependencies: ["MeshCore", "MeshStore", "MeshProcessTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // The compute node's protocol end to end: codec, ComputeNode on real data, ComputeWorker in a mesh.
        // The ML lifecycle end to end over the in-memory mesh, with the real agents' workers.
        .testTarget(
            name: "LifecycleTests",
            dependencies: ["MeshCore", "MeshCompute", "MeshAgents", "MeshTesting", "MeshRuntime", "MeshServer"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ComputeNodeTests",
            dependencies: ["MeshCore", "MeshCompute", "MeshAgents", "MeshTesting", "MeshRuntime"],
            swiftSettings: swiftSettings
        ),
        // The inference API over real HTTP on 127.0.0.1 (port 0).
        .testTarget(
            name: "MeshServerTests",
            dependencies: [
                "MeshServer", "MeshCompute", "MeshCore", "MeshAgents",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The oversight page and /metrics over real HTTP on 127.0.0.1 (port 0); its browser test.
        .testTarget(
            name: "MeshOversightTests",
            dependencies: ["MeshOversight", "MeshStore", "MeshRuntime", "MeshCore", "MeshProcessTesting"],
            exclude: ["scripts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeshComputeTests",
            dependencies: ["MeshCompute", "MeshCore", "MeshProcessTesting"],
            resources: [.copy("Resources/mlp-int8-vectors.json")],
            swiftSettings: swiftSettings
        ),
    ]
)
