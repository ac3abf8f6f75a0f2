import MeshCompute
import MeshCore
import MeshRuntime
import Testing

/// The launcher's kernel choice for the processes it starts (M3 §2).
@Suite("Child environment")
struct ChildEnvironmentTests {
    static let avx512 = CPUFeatures(flags: ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"])

    @Test func aComputeAgentOnAnUnrecognisedAVX512CPUGetsSkylakeX() {
        let overrides = ChildEnvironment.overrides(
            for: .compute, environment: [:], features: Self.avx512, currentCore: "Prescott")
        #expect(overrides == ["OPENBLAS_CORETYPE": "SkylakeX"])
    }

    @Test func aValueAlreadySetIsRespected() {
        for value in ["Prescott", ""] {
            let overrides = ChildEnvironment.overrides(
                for: .compute, environment: ["OPENBLAS_CORETYPE": value], features: Self.avx512, currentCore: "Prescott")
            #expect(overrides.isEmpty)
        }
    }

    @Test func otherRolesAndRecognisedCoresAreLeftAlone() {
        for role in Role.agentRoles where role != .compute {
            #expect(ChildEnvironment.overrides(for: role, environment: [:], features: Self.avx512, currentCore: "Prescott").isEmpty)
        }
        #expect(ChildEnvironment.overrides(for: .compute, environment: [:], features: Self.avx512, currentCore: "SkylakeX").isEmpty)
        let haswell = CPUFeatures(flags: ["avx2", "fma"])
        #expect(
            ChildEnvironment.overrides(for: .compute, environment: [:], features: haswell, currentCore: "Prescott")
                == ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(ChildEnvironment.overrides(for: .compute, environment: [:], features: CPUFeatures(flags: ["sse3"]), currentCore: "Prescott").isEmpty)
    }
}
