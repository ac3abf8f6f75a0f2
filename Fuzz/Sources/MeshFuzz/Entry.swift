#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The target this process fuzzes, chosen once by `LLVMFuzzerInitialize` before any input runs.
nonisolated(unsafe) private var selected: FuzzTarget?

/// libFuzzer's set-up hook: picks the target named by `MESH_FUZZ_TARGET`.
///
/// Two other modes end the process here: `MESH_FUZZ_LIST=1` prints every target name, one a line;
/// `MESH_FUZZ_WRITE_SEEDS=DIR` writes each target's seeds to `DIR/<name>/seed-<n>` (how
/// `Fuzz/Corpus/` was made, once). An unknown or missing name exits 2 naming the targets, so a
/// run can never fuzz nothing.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>
) -> CInt {
    let environment = ProcessInfoLite.self
    if environment.value("MESH_FUZZ_LIST") != nil {
        for target in allTargets { print(target.name) }
        exit(0)
    }
    if let directory = environment.value("MESH_FUZZ_WRITE_SEEDS") {
        writeSeeds(to: directory)
        exit(0)
    }
    let name = environment.value("MESH_FUZZ_TARGET") ?? ""
    guard let target = allTargets.first(where: { $0.name == name }) else {
        let known = allTargets.map(\.name).joined(separator: " ")
        fputs("MESH_FUZZ_TARGET=\(name) is not a target; targets: \(known)\n", stderr)
        exit(2)
    }
    selected = target
    return 0
}

/// libFuzzer's entry point: one input to the selected target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    _ = selected!.run(bytes)
    return 0
}

/// Environment reads without Foundation.
enum ProcessInfoLite {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }
}

/// Writes every target's seeds as `directory/<name>/seed-<n>`.
private func writeSeeds(to directory: String) {
    for target in allTargets {
        let folder = directory + "/" + target.name
        mkdir(directory, 0o755)
        mkdir(folder, 0o755)
        for (index, seed) in target.seeds().enumerated() {
            // Each seed must decode and pass its own oracle, or the corpus starts from a crash.
            guard target.run(seed) else { fatalError("\(target.name): seed \(index) does not decode") }
            let path = folder + "/seed-\(index)"
            guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }
}
