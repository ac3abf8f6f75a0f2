import MeshCompute
import Testing

@Suite("Weights file")
struct WeightsFileTests {
    static let model = MLP(architecture: .mlp(hidden: [6, 5]), inputs: 4, classLabels: [3, -1, 7], seed: 9)

    @Test func fp32RoundTripsBitForBit() throws {
        let bytes = WeightsFile.encode(Self.model)
        #expect(Array(bytes[0..<4]) == Array("MWNN".utf8))
        #expect(bytes[4] == 1 && bytes[5] == 0)  // version 1, little-endian
        #expect(bytes[6] == 1)  // fp32
        #expect(bytes[8] == 3)  // three layers
        let parameters = 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3
        #expect(bytes.count == 16 + 4 * 4 + 3 * 4 + 4 * parameters + 32)
        #expect(try WeightsFile.decode(bytes, source: "m") == .fp32(Self.model))
    }

    @Test func int8RoundTrips() throws {
        let int8 = QuantizedMLP(quantizing: Self.model)
        let bytes = WeightsFile.encode(int8)
        #expect(bytes[6] == 2)
        #expect(try WeightsFile.decode(bytes, source: "m") == .int8(int8))
    }

    @Test func everyTruncationIsATypedErrorNamingTheByte() throws {
        let bytes = WeightsFile.encode(Self.model)
        for length in [0, 10, 47, 60, 100, bytes.count - 33, bytes.count - 1] {
            #expect {
                try WeightsFile.decode(Array(bytes[0..<length]), source: "cut.mwnn")
            } throws: { error in
                guard let error = error as? ComputeError else { return false }
                return error.code == .truncatedFile && error.subject.contains("cut.mwnn") && error.location != nil
            }
        }
    }

    @Test func aFlippedBitFailsTheChecksum() throws {
        var bytes = WeightsFile.encode(Self.model)
        bytes[bytes.count - 100] ^= 0x10
        #expect { try WeightsFile.decode(bytes, source: "m") } throws: {
            ($0 as? ComputeError)?.code == .checksumMismatch
        }
    }

    @Test func foreignBytesAreRejected() throws {
        var bytes = WeightsFile.encode(Self.model)
        bytes[0] = UInt8(ascii: "X")
        #expect { try WeightsFile.decode(bytes, source: "m") } throws: {
            ($0 as? ComputeError)?.code == .unsupportedFormat
        }
        var newer = WeightsFile.encode(Self.model)
        newer[4] = 9
        #expect { try WeightsFile.decode(newer, source: "m") } throws: {
            ($0 as? ComputeError)?.code == .unsupportedFormat
        }
        let padded = WeightsFile.encode(Self.model) + [0]
        #expect { try WeightsFile.decode(padded, source: "m") } throws: {
            ($0 as? ComputeError)?.code == .unsupportedFormat
        }
    }

    @Test func aNaNWeightWithAValidChecksumIsRejected() throws {
        var broken = Self.model
        broken.layers[1].weights[2, 3] = .nan
        let bytes = WeightsFile.encode(broken)
        #expect { try WeightsFile.decode(bytes, source: "m") } throws: { ($0 as? ComputeError)?.code == .nonFinite }
    }
}
