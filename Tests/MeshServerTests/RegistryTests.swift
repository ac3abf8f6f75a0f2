import MeshCompute
import Testing

@testable import MeshServer

/// Deploy, promote, rollback and their errors, without HTTP.
@Suite struct RegistryTests {
    @Test func deployPromoteRollback() throws {
        let registry = ModelRegistry()
        let (one, two) = try Fixtures.versions()
        try registry.deploy(one, alias: "staging")
        #expect(try registry.promote("digits") == 1)
        #expect(registry.version("digits")?.version == 1)
        try registry.deploy(two, alias: "staging")
        #expect(registry.aliases("digits") == ["staging": 2, "production": 1])
        #expect(try registry.promote("digits", from: "staging", to: "production") == 2)
        #expect(registry.version("digits")?.version == 2)
        #expect(registry.history("digits", alias: "production") == [1])
        #expect(try registry.rollback("digits", alias: "production") == 1)
        #expect(registry.version("digits")?.version == 1)
        #expect(registry.version("digits", alias: "staging")?.version == 2)
        #expect(throws: RegistryError.self) { try registry.rollback("digits", alias: "production") }
        try registry.deploy("digits", version: 2, alias: "canary")
        #expect(registry.version("digits", alias: "canary") === two)
        #expect(registry.removeAlias("digits", alias: "canary"))
        #expect(registry.versions("digits") == [1, 2])
        #expect(registry.modelNames == ["digits"])
    }

    @Test func errorsNameTheProblem() throws {
        let registry = ModelRegistry()
        let (one, _) = try Fixtures.versions()
        try registry.register(one)
        try registry.register(one)  // the same object again is fine
        let other = try ModelVersion(name: "digits", version: 1, fp32: Fixtures.modelB)
        let cases: [(RegistryError.Code, () throws(RegistryError) -> Void)] = [
            (.versionExists, { () throws(RegistryError) in try registry.register(other) }),
            (.modelNotFound, { () throws(RegistryError) in try registry.promote("nope") }),
            (.aliasNotFound, { () throws(RegistryError) in try registry.promote("digits", from: "staging") }),
            (.versionNotFound, { () throws(RegistryError) in try registry.deploy("digits", version: 5, alias: "x") }),
            (.invalidName, { () throws(RegistryError) in try registry.deploy(one, alias: "a/b") }),
            (.invalidName, { () throws(RegistryError) in _ = try ModelVersion(name: "a@b", version: 1, fp32: Fixtures.modelA) }),
            (.invalidVersion, { () throws(RegistryError) in _ = try ModelVersion(name: "m", version: 0, fp32: Fixtures.modelA) }),
            (.invalidVersion, { () throws(RegistryError) in _ = try ModelVersion(name: "m", version: 1) }),
            (.invalidVersion, { () throws(RegistryError) in
                _ = try ModelVersion(name: "m", version: 1, fp32: Fixtures.modelA, precision: .int8)
            }),
        ]
        for (code, body) in cases {
            do {
                try body()
                Issue.record("expected \(code)")
            } catch {
                #expect(error.code == code, "\(error)")
            }
        }
    }

    @Test func versionFromWeightsFiles() throws {
        let fp32 = WeightsFile.encode(Fixtures.modelA)
        let int8 = WeightsFile.encode(QuantizedMLP(quantizing: Fixtures.modelA))
        let version = try ModelVersion(name: "m", version: 3, weightsFiles: [(fp32, "a.mwnn"), (int8, "a.mwnn.int8")])
        #expect(version.precision == .int8)
        #expect(version.fp32 == Fixtures.modelA)
        #expect(version.featureCount == 64)
        #expect(throws: ComputeError.self) {
            _ = try ModelVersion(name: "m", version: 1, weightsFiles: [(Array(fp32.dropLast()), "cut.mwnn")])
        }
    }
}
