import Foundation
import MeshCore
import Testing

/// Layer 1: the compute protocol's codec — round trips, and rejection of truncated, oversized,
/// malformed and random input with a `WireError` naming the field (never a trap).
@Suite("Compute codec")
struct CodecTests {
    @Test(arguments: CodecSamples.requests.indices)
    func requestsRoundTrip(index: Int) throws {
        let request = CodecSamples.requests[index]
        let bytes = request.encoded()
        #expect(Array(bytes.prefix(4)) == Array("MWCQ".utf8))
        #expect(bytes[6] == request.operation.rawValue)
        let decoded = try ComputeRequest(decoding: bytes)
        #expect(decoded.encoded() == bytes)
        #expect(decoded.operation == request.operation)
        if index != 7 { #expect(decoded == request) }  // sample 7 holds a NaN, equal only by bits
    }

    @Test(arguments: CodecSamples.responses.indices)
    func responsesRoundTrip(index: Int) throws {
        let response = CodecSamples.responses[index]
        let bytes = response.encoded()
        #expect(Array(bytes.prefix(4)) == Array("MWCR".utf8))
        let decoded = try ComputeResponse(decoding: bytes)
        #expect(decoded.encoded() == bytes)
        if case .predicted(.logits(let frame)) = decoded {
            #expect(frame.sameBits(as: CodecSamples.frame))
        } else {
            #expect(decoded == response)
        }
    }

    @Test func everyTruncationOfEveryMessageIsRejected() {
        var messages = CodecSamples.requests.map { ($0.encoded(), true) }
        messages += CodecSamples.responses.map { ($0.encoded(), false) }
        for (bytes, isRequest) in messages {
            for length in 0..<bytes.count {
                let prefix = Array(bytes.prefix(length))
                let error = Self.decodeError(prefix, isRequest: isRequest)
                #expect(error?.code == .truncated, "\(length) of \(bytes.count) bytes: \(String(describing: error))")
            }
        }
    }

    @Test func trailingBytesAreRejected() {
        for request in CodecSamples.requests {
            #expect(Self.decodeError(request.encoded() + [0], isRequest: true)?.code == .trailingBytes)
        }
        for response in CodecSamples.responses {
            #expect(Self.decodeError(response.encoded() + [0], isRequest: false)?.code == .trailingBytes)
        }
    }

    @Test func theHeaderIsChecked() {
        let good = CodecSamples.requests[4].encoded()
        func altered(_ offset: Int, _ value: UInt8) -> [UInt8] {
            var bytes = good
            bytes[offset] = value
            return bytes
        }
        #expect(Self.decodeError(altered(0, 0x4E), isRequest: true)?.code == .invalidField)  // magic
        #expect(Self.decodeError(altered(4, 2), isRequest: true)?.code == .unknownVersion)
        #expect(Self.decodeError(altered(6, 0), isRequest: true)?.code == .unknownKind)
        #expect(Self.decodeError(altered(6, 9), isRequest: true)?.code == .unknownKind)
        #expect(Self.decodeError(altered(7, 1), isRequest: true)?.code == .invalidField)  // reserved
        // A response is not a request, nor the other way round.
        #expect(Self.decodeError(CodecSamples.responses[3].encoded(), isRequest: true)?.code == .invalidField)
        #expect(Self.decodeError(good, isRequest: false)?.code == .invalidField)
    }

    @Test func tagsOutsideTheirDomainAreRejected() {
        // quantize: header, then the operand's source tag at byte 8.
        var quantize = CodecSamples.requests[4].encoded()
        quantize[8] = 3
        let error = Self.decodeError(quantize, isRequest: true)
        #expect(error?.code == .invalidField && error?.reason.contains("quantize.model.source") == true)

        // predict: the output tag is the last byte.
        var predict = CodecSamples.requests[7].encoded()
        predict[predict.count - 1] = 4
        #expect(Self.decodeError(predict, isRequest: true)?.reason.contains("predict.output") == true)

        // train: the has-validation bool is the last byte of the first sample.
        var train = CodecSamples.requests[0].encoded()
        train[train.count - 1] = 2
        #expect(Self.decodeError(train, isRequest: true)?.reason.contains("train.hasValidation") == true)

        // Hyperparameters: optimizer and trainable tags.
        var writer = Self.header(.train)
        writer.write("softmax")
        writer.write(UInt32(1))
        writer.write(UInt32(0))
        writer.write(UInt32(1))
        writer.write(UInt32(1))
        writer.write(Float(0.1).bitPattern)
        writer.write(Float(0).bitPattern)
        let prefix = writer.bytes
        #expect(Self.decodeError(prefix + [3], isRequest: true)?.reason.contains("optimizer") == true)
        #expect(
            Self.decodeError(prefix + [2] + Self.float(0.9) + [0], isRequest: true)?.reason.contains("trainable") == true)

        // Fine-tune head tag.
        var fine = CodecSamples.requests[3].encoded()
        fine[8 + 33] = 3  // after the base operand (tag + 32-byte hash)
        #expect(Self.decodeError(fine, isRequest: true)?.reason.contains("finetune.head") == true)
    }

    @Test func oversizedCountsAreRejectedBeforeAllocating() {
        // A tensor claiming more rows, columns or values than allowed.
        for (rows, columns, field) in [
            (UInt32(ComputeLimits.maximumRows + 1), UInt32(1), "rows"),
            (UInt32(1), UInt32(ComputeLimits.maximumColumns + 1), "columns"),
            (UInt32(1 << 20), UInt32(1 << 20), "values"),
        ] {
            var writer = Self.header(.predict)
            writer.write(UInt8(2))
            writer.writeRaw([UInt8](repeating: 0, count: 32))
            writer.write(UInt8(1))
            writer.write(rows)
            writer.write(columns)
            let error = Self.decodeError(writer.bytes, isRequest: true)
            #expect(error?.code == .oversized, "\(field): \(String(describing: error))")
        }
        // A tensor whose values are not there.
        var short = Self.header(.predict)
        short.write(UInt8(2))
        short.writeRaw([UInt8](repeating: 0, count: 32))
        short.write(UInt8(1))
        short.write(UInt32(1000))
        short.write(UInt32(1000))
        #expect(Self.decodeError(short.bytes, isRequest: true)?.code == .truncated)

        // An architecture over 256 bytes, a label set over 2^16, epochs and batch over their bounds.
        var architecture = Self.header(.train)
        architecture.write(String(repeating: "9", count: 257))
        #expect(Self.decodeError(architecture.bytes, isRequest: true)?.code == .oversized)
        var labels = Self.header(.train)
        labels.write("softmax")
        labels.write(UInt32(ComputeLimits.maximumClasses + 1))
        #expect(Self.decodeError(labels.bytes, isRequest: true)?.code == .oversized)
        var epochs = Self.header(.train)
        epochs.write("softmax")
        epochs.write(UInt32(0))
        epochs.write(UInt32(ComputeLimits.maximumEpochs + 1))
        #expect(Self.decodeError(epochs.bytes, isRequest: true)?.reason.contains("epochs") == true)
        var batch = Self.header(.train)
        batch.write("softmax")
        batch.write(UInt32(0))
        batch.write(UInt32(1))
        batch.write(UInt32(ComputeLimits.maximumBatchSize + 1))
        #expect(Self.decodeError(batch.bytes, isRequest: true)?.reason.contains("batchSize") == true)

        // Weights longer than allowed.
        var weights = Self.header(.quantize)
        weights.write(UInt8(1))
        weights.write(UInt32(ComputeLimits.maximumWeightsBytes + 1))
        #expect(Self.decodeError(weights.bytes, isRequest: true)?.code == .oversized)

        // A whole request or response over the payload limit.
        let huge = [UInt8](repeating: 0, count: ComputeLimits.maximumPayloadBytes + 1)
        #expect(Self.decodeError(huge, isRequest: true)?.code == .oversized)
        #expect(Self.decodeError(huge, isRequest: false)?.code == .oversized)

        // An evaluation claiming 65536 classes: the K² matrix is checked against the bytes left.
        var evaluation = WireWriter()
        evaluation.writeRaw(Array("MWCR".utf8))
        evaluation.write(UInt16(1))
        evaluation.write(ComputeOperation.evaluate.rawValue)
        evaluation.write(UInt8(0))
        evaluation.write(UInt32(10))
        evaluation.write(UInt32(1 << 16))
        evaluation.writeRaw([UInt8](repeating: 0, count: 4 << 16))
        evaluation.writeRaw([UInt8](repeating: 0, count: 33))
        #expect(Self.decodeError(evaluation.bytes, isRequest: false)?.reason.contains("confusionMatrix") == true)
    }

    @Test func randomAndCorruptedBytesNeverTrap() {
        var rng = SeededRandom(seed: 42, key: "garbage")
        let samples = CodecSamples.requests.map { $0.encoded() } + CodecSamples.responses.map { $0.encoded() }
        var rejected = 0
        for round in 0..<4_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                // Random bytes behind a valid header, so the body decoders see them.
                let operation = UInt8(1 + rng.next(below: 5))
                let magic = round % 4 == 0 ? "MWCQ" : "MWCR"
                bytes = Array(magic.utf8) + [1, 0, operation, 0]
                for _ in 0..<rng.next(below: 200) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            } else {
                bytes = samples[Int(rng.next(below: UInt64(samples.count)))]
                for _ in 0...rng.next(below: 3) {
                    bytes[Int(rng.next(below: UInt64(bytes.count)))] ^= UInt8(truncatingIfNeeded: 1 + rng.next(below: 255))
                }
            }
            if (try? ComputeRequest(decoding: bytes)) == nil, (try? ComputeResponse(decoding: bytes)) == nil {
                rejected += 1
            }
        }
        #expect(rejected > 1_000)
    }

    @Test func datasetBlobsRoundTripAndAreChecked() throws {
        let rows = CodecSamples.rows
        let blob = rows.encodedBlob()
        #expect(Array(blob.prefix(4)) == Array("MWDS".utf8))
        #expect(try LabeledRows(decodingBlob: blob) == rows)
        #expect(throws: WireError.self) { try LabeledRows(decodingBlob: blob + [1]) }
        #expect(throws: WireError.self) { try LabeledRows(decodingBlob: Array(blob.dropLast())) }
        var version = blob
        version[4] = 9
        let unknown = #expect(throws: WireError.self) { try LabeledRows(decodingBlob: version) }
        #expect(unknown?.code == .unknownVersion)
        let foreign = #expect(throws: WireError.self) {
            try LabeledRows(decodingBlob: Array("MWNN".utf8) + blob.dropFirst(4))
        }
        #expect(foreign?.code == .invalidField)
    }

    @Test func blobHashesParseAndPrint() {
        let hash = BlobHash(of: Array("abc".utf8))
        #expect(hash.description == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(BlobHash(hash.description) == hash)
        #expect(BlobHash(hash.description.uppercased().replacingOccurrences(of: "SHA256", with: "sha256")) == hash)
        #expect(BlobHash("sha256:12") == nil)
        #expect(BlobHash("md5:" + String(repeating: "0", count: 64)) == nil)
        #expect(BlobHash("sha256:" + String(repeating: "g", count: 64)) == nil)
        #expect(BlobHash(bytes: [1, 2]) == nil)
    }

    @Test func failuresReadBackFromTheirReportedReason() {
        let failure = ComputeFailure(.labelOutOfRange, "training data", at: "row 17", "label 12 is not one of the classes")
        #expect(failure.reportedReason == "labelOutOfRange: training data, row 17: label 12 is not one of the classes")
        let read = ComputeFailure(reportedReason: failure.reportedReason)
        #expect(read.code == .labelOutOfRange && read.subject == "training data, row 17")
        #expect(read.reason == "label 12 is not one of the classes")

        let malformed = ComputeFailure(malformed: WireError(.truncated, "train.data: needs 4 bytes"))
        #expect(ComputeFailure(reportedReason: malformed.reportedReason).code == .malformedRequest)
        #expect(ComputeFailure(reportedReason: "no worker here does x").code == .unknown)

        let long = ComputeFailure(.invalidArgument, "model", String(repeating: "é", count: 5_000))
        #expect(long.reportedReason.utf8.count <= ComputeFailure.maximumReasonBytes)
        #expect(long.reportedReason.hasSuffix("..."))
    }

    @Test func theWireDocumentsExampleFailureIsExact() {
        let request = ComputeRequest.train(
            TrainRequest(architecture: "mlp:64", classLabels: Array(0...9), hyperparameters: Hyperparameters(), data: .inline(NodeFixtures.trainRows)))
        let cut = Array(request.encoded().prefix(107 + 1000))
        let error = Self.decodeError(cut, isRequest: true)
        #expect(
            error.map { ComputeFailure(malformed: $0).reportedReason }
                == "malformedRequest: request: truncated: train.data.features.values: 1438 x 64 needs 368128 bytes at offset 107, 1000 left")
    }

    @Test func operationsMapToWorks() {
        #expect(ComputeOperation.allCases.map(\.work) == [
            "compute.train", "compute.finetune", "compute.quantize", "compute.evaluate", "compute.predict",
        ])
        for operation in ComputeOperation.allCases { #expect(ComputeOperation(work: operation.work) == operation) }
        #expect(ComputeOperation(work: "relay.hash") == nil)
    }

    // MARK: - Helpers

    static func decodeError(_ bytes: [UInt8], isRequest: Bool) -> WireError? {
        do {
            if isRequest { _ = try ComputeRequest(decoding: bytes) } else { _ = try ComputeResponse(decoding: bytes) }
            return nil
        } catch {
            return error
        }
    }

    static func header(_ operation: ComputeOperation) -> WireWriter {
        var writer = WireWriter()
        writer.writeRaw(Array("MWCQ".utf8))
        writer.write(UInt16(1))
        writer.write(operation.rawValue)
        writer.write(UInt8(0))
        return writer
    }

    static func float(_ value: Float) -> [UInt8] {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }
}
