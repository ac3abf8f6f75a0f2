import MeshCore

/// One decoder under test: its name (the directory of its corpus and saved crashes), the oracle
/// libFuzzer runs on every input, and the valid encodings its seed corpus was made from.
struct FuzzTarget: Sendable {
    /// The target's name, as `MESH_FUZZ_TARGET` selects it and `Fuzz/Corpus/<name>/` holds its seeds.
    let name: String
    /// Runs one input: decodes it and, when it decodes, checks the oracle (a failed check traps);
    /// true when the input decoded.
    let run: @Sendable ([UInt8]) -> Bool
    /// Real encodings of real values, written once to `Fuzz/Corpus/<name>/` (`MESH_FUZZ_WRITE_SEEDS`).
    let seeds: @Sendable () -> [[UInt8]]

    /// A binary codec whose encoding is canonical: whatever decodes must re-encode to the very
    /// same bytes (a decoder that accepts two spellings of one value lets a peer vary bytes that
    /// the journal and deduplication take to be one message).
    static func exact<Value>(
        _ name: String,
        decode: @escaping @Sendable ([UInt8]) throws(WireError) -> Value,
        encode: @escaping @Sendable (Value) -> [UInt8],
        seeds: @escaping @Sendable () -> [[UInt8]]
    ) -> FuzzTarget {
        FuzzTarget(name: name, run: { bytes in
            guard let value = try? decode(bytes) else { return false }
            let again = encode(value)
            guard again == bytes else {
                fatalError("\(name): \(bytes.count) bytes decoded but re-encode to \(again.count) other bytes: \(hex(bytes)) -> \(hex(again))")
            }
            return true
        }, seeds: seeds)
    }

    /// A codec with more than one spelling of a value (a JSON head, say): whatever decodes must
    /// encode to bytes that decode again and re-encode to themselves (encode ∘ decode is
    /// idempotent), so a value read from a peer survives being passed on.
    static func stable<Value>(
        _ name: String,
        decode: @escaping @Sendable ([UInt8]) throws(WireError) -> Value,
        encode: @escaping @Sendable (Value) -> [UInt8],
        seeds: @escaping @Sendable () -> [[UInt8]]
    ) -> FuzzTarget {
        FuzzTarget(name: name, run: { bytes in
            guard let value = try? decode(bytes) else { return false }
            let first = encode(value)
            let second: [UInt8]
            do {
                second = encode(try decode(first))
            } catch {
                fatalError("\(name): \(hex(bytes)) decoded, but its re-encoding \(hex(first)) is refused: \(error)")
            }
            guard first == second else {
                fatalError("\(name): re-encoding is not stable for \(hex(bytes)): \(hex(first)) then \(hex(second))")
            }
            return true
        }, seeds: seeds)
    }
}

/// Lowercase hex of at most the first 512 bytes, for a crash message.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes.prefix(512) {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: text, as: UTF8.self) + (bytes.count > 512 ? "…" : "")
}
