import MeshCompute
import Testing

@Suite("BLAS kernel choice")
struct KernelChoiceTests {
    static let avx512 = CPUFeatures(flags: [
        "sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
    ])
    static let avx2 = CPUFeatures(flags: ["sse3", "avx", "avx2", "fma"])
    static let sse = CPUFeatures(flags: ["sse3", "ssse3"])

    @Test func aPrescottFallbackOnAnAVX512CPUGetsSkylakeX() {
        #expect(
            BLASKernel.recommendedCoreType(environment: [:], features: Self.avx512, currentCore: "Prescott")
                == "SkylakeX"
        )
        #expect(
            BLASKernel.recommendedCoreType(environment: [:], features: Self.avx512, currentCore: "Haswell")
                == "SkylakeX"
        )
    }

    @Test func anAVX2CPUGetsHaswell() {
        #expect(
            BLASKernel.recommendedCoreType(environment: [:], features: Self.avx2, currentCore: "Prescott") == "Haswell"
        )
        #expect(
            BLASKernel.recommendedCoreType(environment: [:], features: Self.avx2, currentCore: "Sandybridge")
                == "Haswell"
        )
    }

    @Test func aValueAlreadySetIsAlwaysRespected() {
        for value in ["Prescott", "SkylakeX", "Haswell", ""] {
            let environment = ["OPENBLAS_CORETYPE": value, "PATH": "/usr/bin"]
            #expect(
                BLASKernel.recommendedCoreType(environment: environment, features: Self.avx512, currentCore: "Prescott")
                    == nil
            )
        }
    }

    @Test func theRightKernelIsLeftAlone() {
        for core in ["SkylakeX", "skylakex", "Cooperlake", "SapphireRapids"] {
            #expect(BLASKernel.recommendedCoreType(environment: [:], features: Self.avx512, currentCore: core) == nil)
        }
        for core in ["Haswell", "Zen"] {
            #expect(BLASKernel.recommendedCoreType(environment: [:], features: Self.avx2, currentCore: core) == nil)
        }
    }

    @Test func partialAVX512OrNoAVX2GetsNothingBetter() {
        // avx512f alone (Knights Landing has no BW/DQ/VL) is not the SkylakeX set: fall to Haswell.
        let knights = CPUFeatures(flags: ["avx2", "fma", "avx512f", "avx512cd"])
        #expect(
            BLASKernel.recommendedCoreType(environment: [:], features: knights, currentCore: "Prescott") == "Haswell"
        )
        #expect(BLASKernel.recommendedCoreType(environment: [:], features: Self.sse, currentCore: "Prescott") == nil)
        #expect(
            BLASKernel.recommendedCoreType(
                environment: [:],
                features: CPUFeatures(flags: ["avx2"]),
                currentCore: "Prescott"
            ) == nil
        )
    }

    @Test func cpuinfoIsParsed() {
        let text = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
            flags\t\t: fpu sse3 avx2 fma avx512f avx512dq avx512bw avx512vl
            processor\t: 1
            flags\t\t: fpu
            """
        let features = CPUFeatures(cpuinfo: text)
        #expect(features.modelName == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz")
        #expect(features.hasAVX512SkylakeSet)
        #expect(features.hasAVX2FMA)
        #expect(features.relevantFlags == ["sse3", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"])
        #expect(CPUFeatures(cpuinfo: "").flags.isEmpty)
    }

    @Test func theRunningLibraryReportsAKernel() {
        #expect(!BLAS.coreName.isEmpty)
        #expect(BLAS.threadCount >= 1)
    }
}
