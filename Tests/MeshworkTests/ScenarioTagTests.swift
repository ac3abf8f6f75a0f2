import Foundation
import MeshCore
import MeshProcessTesting
import MeshRuntime
import Testing

/// The loader resolves YAML tags once, itself, instead of per lookup in Yams (start-up with a
/// fleet's 1,001 files): every kind of scalar must still decode as YAML says.
@Suite("Scenario YAML tags")
struct ScenarioTagTests {
    struct Nested: Decodable, Equatable {
        var depth: Int
        var label: String
    }

    struct Probe: Decodable, Equatable {
        var yes: Bool
        var no: Bool
        var on: Bool
        var capitalFalse: Bool
        var count: Int
        var negative: Int
        var hex: Int
        var octal: Int
        var underscored: Int
        var ratio: Double
        var exponent: Double
        var infinity: Double
        var word: String
        var offRoad: String
        var quotedYes: String
        var quotedNumber: String
        var tildeWord: String
        var absent: Int?
        var tilde: Int?
        var null: String?
        var empty: String?
        var list: [Int]
        var words: [String]
        var map: [String: Int]
        var nested: Nested
        var anchored: Nested
        var merged: Nested
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let directory = try MeshworkBinary.temporaryDirectory()
        let path = try MeshworkBinary.writeScenario(text, named: "probe.yaml", in: directory)
        return try ScenarioLoader.decode(type, path: path)
    }

    @Test func everyKindOfScalarDecodesAsYAMLSays() throws {
        let probe = try Self.decode(
            Probe.self,
            """
            yes: yes
            no: off
            on: On
            capitalFalse: FALSE
            count: 42
            negative: -7
            hex: 0x1F
            octal: 017
            underscored: 1_000
            ratio: 0.25
            exponent: 1e3
            infinity: .inf
            word: macro_f1
            offRoad: off-road
            quotedYes: "yes"
            quotedNumber: '12'
            tildeWord: ~x
            tilde: ~
            null: null
            empty:
            list: [1, 2, 3]
            words: [eu, us, no-go]
            map: { a: 1, "2": 2, true: 3 }
            nested: &n { depth: 1, label: n }
            anchored: *n
            merged: { <<: *n, label: m }
            """)
        #expect(
            probe
                == Probe(
                    yes: true, no: false, on: true, capitalFalse: false, count: 42, negative: -7, hex: 31, octal: 15,
                    underscored: 1000, ratio: 0.25, exponent: 1000, infinity: .infinity, word: "macro_f1", offRoad: "off-road",
                    quotedYes: "yes", quotedNumber: "12", tildeWord: "~x", absent: nil, tilde: nil, null: nil, empty: nil,
                    list: [1, 2, 3], words: ["eu", "us", "no-go"], map: ["a": 1, "2": 2, "true": 3],
                    nested: Nested(depth: 1, label: "n"), anchored: Nested(depth: 1, label: "n"),
                    merged: Nested(depth: 1, label: "m")))
    }

    @Test(arguments: [
        ("depth: yes\nlabel: x\n", "probe.yaml:1", "depth: expected an integer"),
        ("depth: 1\nlabel: [x]\n", "probe.yaml:2", "label: expected"),
        ("depth: 1\n", "probe.yaml", "label: missing required field"),
    ])
    func aWrongScalarIsStillNamedWithItsLine(text: String, place: String, message: String) throws {
        let error = try #require(throws: ScenarioError.self) { try Self.decode(Nested.self, text) }
        #expect(error.description.contains(place), "\(error)")
        #expect(error.description.contains(message), "\(error)")
    }
}
