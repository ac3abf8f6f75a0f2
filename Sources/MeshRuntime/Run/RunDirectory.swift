import Foundation
public import MeshCore

/// One run's directory, `runs/<run-id>/`: the scenario it ran, its journals, logs and summary.
public struct RunDirectory: Sendable {
    /// The run's id, `<scenario>-<yyyyMMdd-HHmmss>-<4 hex>`.
    public let id: String
    /// The directory's path.
    public let path: String

    /// The run database: journals, registries, metrics (docs/STORE.md).
    public var databasePath: String { self.path + "/mesh.sqlite" }
    /// The summary the CLI printed.
    public var summaryPath: String { self.path + "/summary.json" }
    /// The copy of the scenario the run was started with.
    public var scenarioPath: String { self.path + "/scenario.yaml" }
    /// Where each process's log goes.
    public var logsPath: String { self.path + "/logs" }

    /// Opens an existing run directory.
    public init(existing path: String) throws(RuntimeError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RuntimeError(.runDirectory, "\(path): not a run directory (no such directory)")
        }
        guard FileManager.default.fileExists(atPath: path + "/scenario.yaml") else {
            throw RuntimeError(.runDirectory, "\(path): not a run directory (no scenario.yaml)")
        }
        self.path = path
        self.id = URL(fileURLWithPath: path).lastPathComponent
    }

    /// Creates a new run directory for `scenario` under `root`, with a copy of the scenario file.
    public static func create(root: String, scenario: Scenario, scenarioPath: String) throws(RuntimeError) -> RunDirectory {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        var system = SystemRandomNumberGenerator()
        let suffix = String(UInt16.random(in: 0...UInt16.max, using: &system), radix: 16)
        let id = "\(scenario.name)-\(formatter.string(from: Date()))-\(String(repeating: "0", count: 4 - suffix.count))\(suffix)"
        let path = (root as NSString).appendingPathComponent(id)
        do {
            try FileManager.default.createDirectory(atPath: path + "/logs", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: scenarioPath, toPath: path + "/scenario.yaml")
        } catch {
            throw RuntimeError(.runDirectory, "\(path): cannot create the run directory: \(error.localizedDescription)")
        }
        return RunDirectory(id: id, path: path)
    }

    private init(id: String, path: String) {
        self.id = id
        self.path = path
    }

    /// Writes the summary JSON.
    public func writeSummary(_ json: String) throws(RuntimeError) {
        do {
            try (json + "\n").write(toFile: self.summaryPath, atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.runDirectory, "\(self.summaryPath): cannot write: \(error.localizedDescription)")
        }
    }
}
