import Foundation
public import MeshCore
public import MeshCompute
public import Subprocess

/// The environment the supervisor starts an agent process with.
///
/// Every child inherits the supervisor's environment. A compute agent also gets
/// `OPENBLAS_CORETYPE` when ``BLASKernel/recommendedCoreType(environment:features:currentCore:)``
/// recommends one: OpenBLAS reads it only when the library loads, so the launcher must set it
/// (docs/COMPUTE.md, "The kernel trap"). A value already in the environment is always respected.
public enum ChildEnvironment {
    /// The environment for an agent of `role`.
    public static func environment(for role: Role) -> Subprocess.Environment {
        let overrides = self.overrides(
            for: role,
            environment: ProcessInfo.processInfo.environment,
            features: self.features,
            currentCore: BLAS.coreName
        )
        guard !overrides.isEmpty else { return .inherit }
        var updates: [Subprocess.Environment.Key: String?] = [:]
        for (name, value) in overrides { updates[Subprocess.Environment.Key(stringLiteral: name)] = value }
        return .inherit.updating(updates)
    }

    /// The variables added to an agent's inherited environment: for a compute agent, the
    /// recommended `OPENBLAS_CORETYPE`, if any; for the other roles none. Pure, for tests.
    public static func overrides(
        for role: Role,
        environment: [String: String],
        features: CPUFeatures,
        currentCore: String
    ) -> [String: String] {
        guard role == .compute,
            let core = BLASKernel.recommendedCoreType(
                environment: environment,
                features: features,
                currentCore: currentCore
            )
        else { return [:] }
        return [BLASKernel.environmentKey: core]
    }

    /// The CPU's features, read once from /proc/cpuinfo.
    private static let features = CPUFeatures.current()
}
