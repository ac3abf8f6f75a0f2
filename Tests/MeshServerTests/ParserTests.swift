import MeshCore
import Testing

@testable import MeshServer

/// The hand-written request parser against the standard library's number parsing and JSON rules.
@Suite struct ParserTests {
    private func parse(_ text: String, features: Int = 2, maximumRows: Int = 100) throws -> InferenceRequest {
        let bytes = Array(text.utf8)
        let parser = InferenceRequestParser(featureCount: features, maximumRows: maximumRows)
        return try bytes.withUnsafeBytes { buffer in try parser.parse(buffer) }
    }

    @Test func numbersRoundLikeTheStandardLibrary() throws {
        var rng = SeededRandom(seed: 3, key: "parser")
        var texts = ["0", "-0", "1", "16", "0.5", "-2.25", "1e3", "1E-3", "123456789", "0.1", "3.4028235e38",
                     "1.17549435e-38", "1e-45", "0.30000000000000004", "12345678901234567890123", "-7.006e-3",
                     // Around the small-integer fast path (1-7 digits) and past it.
                     "7", "-16", "9999999", "-1234567", "12345678", "16777217", "-0.0", "10", "100e0", "3E1"]
        for _ in 0..<2000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if value.isFinite { texts.append("\(value)") }
            texts.append("\(Double(Int64(bitPattern: rng.next()) % 1_000_000) / 1000)")
        }
        for pair in stride(from: 0, to: texts.count - 1, by: 2) {
            let request = try self.parse(
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[\(texts[pair]),\(texts[pair + 1])]}]}"
            )
            #expect(request.values == [Float(texts[pair])!, Float(texts[pair + 1])!], "\(texts[pair]) \(texts[pair + 1])")
        }
    }

    @Test func escapesUnknownKeysAndWhitespace() throws {
        let request = try self.parse(
            """
             { "parameters": {"a": [1, {"b": null}, true, false, "x\\u00e9"]},
               "id" : "a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00",
               "inputs" : [ { "parameters": {}, "data" : [[1, 2], [3, 4]], "datatype" : "FP64",
                              "shape" : [2, 2], "name" : "input" } ] }
            """
        )
        #expect(request.id == "a\"b\\c\né😀")
        #expect(request.rows == 2)
        #expect(request.values == [1, 2, 3, 4])
        #expect(request.outputs == .standard)
    }

    @Test func invalidJSONIsRefusedWithAnOffset() {
        for text in ["{\"inputs\":[}", "{\"inputs\" [1]}", "{'inputs':[]}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
                     "{\"a\":\"\u{01}\"}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "[1]x", "{\"a\":1,}",
                     // The same mistakes inside `data`, where numbers take the small-integer path first.
                     "{\"inputs\":[{\"data\":[01,2]}]}", "{\"inputs\":[{\"data\":[1.,2]}]}",
                     "{\"inputs\":[{\"data\":[-,2]}]}", "{\"inputs\":[{\"data\":[1e,2]}]}",
                     "{\"inputs\":[{\"data\":[1 2]}]}", "{\"inputs\":[{\"data\":[12"] {
            #expect {
                _ = try self.parse(text)
            } throws: { error in
                (error as? InferenceError)?.code == .malformedJSON
            }
        }
    }

    @Test func valuesBeyondTheBatchLimitStopEarly() {
        let data = Array(repeating: "1", count: 300).joined(separator: ",")
        #expect {
            _ = try self.parse("{\"inputs\":[{\"data\":[\(data)],\"name\":\"input\",\"shape\":[150,2],\"datatype\":\"FP32\"}]}")
        } throws: { error in
            (error as? InferenceError)?.code == .batchTooLarge
        }
    }
}
