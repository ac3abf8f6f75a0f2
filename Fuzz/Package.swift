// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "meshwork-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "meshwork", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "MeshFuzz",
            dependencies: [.product(name: "MeshCore", package: "meshwork")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
