public import MeshCore
public import MeshStore

extension RunStore {
    /// The run database the coordinator writes: a new one for a new run, the existing one when
    /// resuming. A store error becomes a one-line ``RuntimeError`` naming the file.
    public static func openForCoordinator(run: RunDirectory, scenario: Scenario, resume: Bool) throws(RuntimeError) -> RunStore {
        do {
            if resume { return try RunStore.open(at: run.path) }
            return try RunStore.create(at: run.path, run: RunInfo(id: run.id, scenario: scenario.name, seed: scenario.seed))
        } catch {
            throw RuntimeError(.journal, "\(error)")
        }
    }

    /// The run database, read-only (summaries, status, replay).
    public static func openReadOnly(run: RunDirectory) throws(RuntimeError) -> RunStore {
        do {
            return try RunStore.openReadOnly(at: run.path)
        } catch {
            throw RuntimeError(.journal, "\(error)")
        }
    }
}
