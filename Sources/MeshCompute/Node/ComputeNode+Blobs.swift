import MeshCore

extension ComputeNode {
    /// The bytes of every blob `request` names that the resolver has; the others are left out
    /// and fail by name when the request runs.
    func fetchBlobs(of request: ComputeRequest) async -> [BlobHash: [UInt8]] {
        guard let resolve = self.resolver else { return [:] }
        var blobs: [BlobHash: [UInt8]] = [:]
        for hash in request.blobReferences where blobs[hash] == nil {
            blobs[hash] = await resolve(hash)
        }
        return blobs
    }

    /// A request's operands, inline or from the fetched blobs, checked and decoded on the
    /// executor's thread.
    struct Operands {
        var blobs: [BlobHash: [UInt8]]

        func weights(
            _ operand: ComputeOperand<SerializedWeights>,
            _ field: String
        ) throws(ComputeFailure)
            -> SerializedWeights
        {
            switch operand {
            case .inline(let weights): return weights
            case .blob(let hash): return SerializedWeights(try self.bytes(of: hash, field))
            }
        }

        func rows(_ operand: ComputeOperand<LabeledRows>, _ field: String) throws(ComputeFailure) -> LabeledRows {
            switch operand {
            case .inline(let rows): return rows
            case .blob(let hash): return try self.dataset(hash, field)
            }
        }

        /// Rows for a prediction: a dataset blob's features (its labels are ignored).
        func features(_ operand: ComputeOperand<TensorFrame>, _ field: String) throws(ComputeFailure) -> TensorFrame {
            switch operand {
            case .inline(let frame): return frame
            case .blob(let hash): return try self.dataset(hash, field).features
            }
        }

        private func dataset(_ hash: BlobHash, _ field: String) throws(ComputeFailure) -> LabeledRows {
            let bytes = try self.bytes(of: hash, field)
            do {
                return try LabeledRows(decodingBlob: bytes)
            } catch {
                throw ComputeFailure(.unsupportedFormat, "dataset blob \(hash)", "\(field): \(error)")
            }
        }

        /// The bytes of `hash`, checked against it.
        private func bytes(of hash: BlobHash, _ field: String) throws(ComputeFailure) -> [UInt8] {
            guard let bytes = self.blobs[hash] else {
                throw ComputeFailure(
                    .blobUnavailable,
                    field,
                    "\(hash) could not be resolved (this node has no blob store, or its store lacks it)"
                )
            }
            guard BlobHash(of: bytes) == hash else {
                throw ComputeFailure(.blobUnavailable, field, "the bytes resolved for \(hash) have another SHA-256")
            }
            return bytes
        }
    }
}
