import Foundation
import MeshCore
import Testing

/// docs/scenario.schema.json (for editors) names exactly the keys the decoders accept.
@Suite("Scenario JSON Schema")
struct ScenarioSchemaTests {
    static func schema() throws -> [String: Any] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("docs/scenario.schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func properties(_ object: [String: Any]?) -> Set<String> {
        Set((object?["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
    }

    static func keys<K: CodingKey & CaseIterable>(_ type: K.Type) -> Set<String> {
        Set(K.allCases.map(\.stringValue))
    }

    @Test func everyObjectListsTheKeysItsDecoderAccepts() throws {
        let schema = try Self.schema()
        let defs = try #require(schema["$defs"] as? [String: [String: Any]])
        #expect(Self.properties(schema) == Self.keys(Scenario.CodingKeys.self))
        let pairs: [(String, Set<String>)] = [
            ("workflow", Self.keys(WorkflowSpec.CodingKeys.self)),
            ("relay", Self.keys(RelaySpec.CodingKeys.self)),
            ("supervisor", Self.keys(SupervisorSpec.CodingKeys.self)),
            ("fault", Self.keys(FaultSpec.CodingKeys.self)),
            ("lifecycle", Self.keys(LifecycleScenario.CodingKeys.self)),
            ("outage", Self.keys(SourceOutage.CodingKeys.self)),
            ("human", Self.keys(HumanPolicy.CodingKeys.self)),
            ("search", Self.keys(SearchSettings.CodingKeys.self)),
            ("serving", Self.keys(ServingSettings.CodingKeys.self)),
            ("monitoring", Self.keys(MonitoringSettings.CodingKeys.self)),
            ("drift", Self.keys(MonitoringSettings.Drift.CodingKeys.self)),
            ("rule", Self.keys(DriftRule.CodingKeys.self)),
            ("alert", Self.keys(AlertRule.CodingKeys.self)),
            ("retrain", Self.keys(MonitoringSettings.Retrain.CodingKeys.self)),
        ]
        for (name, keys) in pairs {
            let definition = defs[name]
            #expect(definition != nil, "no $defs/\(name)")
            #expect(Self.properties(definition) == keys, "$defs/\(name)")
            #expect(definition?["additionalProperties"] as? Bool == false, "$defs/\(name) must refuse unknown keys")
        }
        let gates = try #require(((defs["human"]?["properties"] as? [String: Any])?["never_answer"] as? [String: Any])?["items"] as? [String: Any])
        #expect(Set(gates["enum"] as? [String] ?? []) == Set(GateRequest.Gate.allCases.map(\.rawValue)))
        let kinds = try #require(((defs["fault"]?["properties"] as? [String: Any])?["kinds"] as? [String: Any])?["items"] as? [String: Any])
        #expect(kinds["enum"] as? [String] == MessageKind.allCases.map(\.name))
        let roles = try #require(((schema["properties"] as? [String: Any])?["agents"] as? [String: Any])?["propertyNames"] as? [String: Any])
        #expect(roles["enum"] as? [String] == Role.agentRoles.map(\.rawValue))
    }
}
