import MeshCore

extension ComputeNode {
    /// The request with every blob operand replaced by its resolved, hash-checked value.
    func resolved(_ request: ComputeRequest) async throws(ComputeFailure) -> ComputeRequest {
        switch request {
        case .train(var train):
            train.data = try await self.rows(train.data, "train.data")
            if let validation = train.validation { train.validation = try await self.rows(validation, "train.validation") }
            return .train(train)
        case .fineTune(var fineTune):
            fineTune.base = try await self.weights(fineTune.base, "finetune.base")
            fineTune.data = try await self.rows(fineTune.data, "finetune.data")
            if let validation = fineTune.validation {
                fineTune.validation = try await self.rows(validation, "finetune.validation")
            }
            return .fineTune(fineTune)
        case .quantize(var quantize):
            quantize.model = try await self.weights(quantize.model, "quantize.model")
            return .quantize(quantize)
        case .evaluate(var evaluate):
            evaluate.model = try await self.weights(evaluate.model, "evaluate.model")
            evaluate.data = try await self.rows(evaluate.data, "evaluate.data")
            return .evaluate(evaluate)
        case .predict(var predict):
            predict.model = try await self.weights(predict.model, "predict.model")
            if case .blob(let hash) = predict.rows {
                predict.rows = .inline(try await self.dataset(hash, "predict.rows").features)
            }
            return .predict(predict)
        }
    }

    private func weights(_ operand: ComputeOperand<SerializedWeights>, _ field: String) async throws(ComputeFailure)
        -> ComputeOperand<SerializedWeights>
    {
        guard case .blob(let hash) = operand else { return operand }
        return .inline(SerializedWeights(try await self.blob(hash, field)))
    }

    private func rows(_ operand: ComputeOperand<LabeledRows>, _ field: String) async throws(ComputeFailure)
        -> ComputeOperand<LabeledRows>
    {
        guard case .blob(let hash) = operand else { return operand }
        return .inline(try await self.dataset(hash, field))
    }

    private func dataset(_ hash: BlobHash, _ field: String) async throws(ComputeFailure) -> LabeledRows {
        let bytes = try await self.blob(hash, field)
        do {
            return try LabeledRows(decodingBlob: bytes)
        } catch {
            throw ComputeFailure(.unsupportedFormat, "dataset blob \(hash)", "\(field): \(error)")
        }
    }

    /// The bytes of the blob `hash`, checked against it.
    private func blob(_ hash: BlobHash, _ field: String) async throws(ComputeFailure) -> [UInt8] {
        guard let resolve = self.resolver else {
            throw ComputeFailure(.blobUnavailable, field, "\(hash): this node has no blob store to resolve it")
        }
        guard let bytes = await resolve(hash) else {
            throw ComputeFailure(.blobUnavailable, field, "\(hash) is not in the blob store")
        }
        guard BlobHash(of: bytes) == hash else {
            throw ComputeFailure(.blobUnavailable, field, "the bytes resolved for \(hash) have another SHA-256")
        }
        return bytes
    }
}
