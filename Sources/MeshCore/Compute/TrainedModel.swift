/// What a training or fine-tuning request returns: the trained fp32 weights and one summary per
/// epoch.
///
/// On the wire, after the response header: ``SerializedWeights`` (fp32), u32 E (≤
/// ``ComputeLimits/maximumEpochs``), u8 has-validation, then E × (f64 train loss, f64 train
/// accuracy, and when has-validation f64 validation accuracy, f64 validation loss). Wall and CPU
/// times are not in it: the bytes must be the same every time the request is run.
public struct TrainedModel: Sendable, Equatable {
    /// One epoch of the run.
    public struct Epoch: Sendable, Hashable {
        /// Mean cross-entropy over the epoch's batches, as the weights were when each was seen.
        public var trainLoss: Double
        /// Share of training rows right when their batch was seen.
        public var trainAccuracy: Double
        /// Accuracy on the validation rows after the epoch, when the request gave some.
        public var validationAccuracy: Double?
        /// Mean cross-entropy on the validation rows after the epoch, when the request gave some.
        public var validationLoss: Double?

        /// An epoch summary.
        public init(
            trainLoss: Double,
            trainAccuracy: Double,
            validationAccuracy: Double? = nil,
            validationLoss: Double? = nil
        ) {
            self.trainLoss = trainLoss
            self.trainAccuracy = trainAccuracy
            self.validationAccuracy = validationAccuracy
            self.validationLoss = validationLoss
        }
    }

    /// The trained model (an fp32 weights file).
    public var weights: SerializedWeights
    /// One summary per epoch, first epoch first.
    public var epochs: [Epoch]

    /// A trained model and its history; every epoch has validation figures or none does.
    public init(weights: SerializedWeights, epochs: [Epoch]) {
        precondition(
            Set(epochs.map { $0.validationAccuracy != nil && $0.validationLoss != nil }).count <= 1,
            "validation figures on some epochs only"
        )
        self.weights = weights
        self.epochs = epochs
    }

    func encode(into writer: inout WireWriter) {
        self.weights.encode(into: &writer)
        writer.write(UInt32(self.epochs.count))
        let validated = self.epochs.first?.validationAccuracy != nil
        writer.write(validated)
        for epoch in self.epochs {
            writer.write(epoch.trainLoss)
            writer.write(epoch.trainAccuracy)
            if validated {
                writer.write(epoch.validationAccuracy ?? .nan)
                writer.write(epoch.validationLoss ?? .nan)
            }
        }
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        self.weights = try SerializedWeights(from: &reader, field: field + ".weights")
        let count = Int(try reader.readUInt32(field + ".epochs.count"))
        guard count <= ComputeLimits.maximumEpochs else {
            throw WireError(.oversized, "\(field).epochs: \(count), at most \(ComputeLimits.maximumEpochs) allowed")
        }
        let validated = try reader.readBool(field + ".hasValidation")
        // The flag says whether the epochs carry validation figures; with no epochs it is false,
        // as `encode` writes it (one spelling per value: the fuzzer found the other).
        guard count > 0 || !validated else {
            throw WireError(.invalidField, "\(field).hasValidation: true with no epochs")
        }
        var epochs: [Epoch] = []
        epochs.reserveCapacity(min(count, reader.remaining / 16))
        for index in 0..<count {
            let name = "\(field).epochs[\(index)]"
            var epoch = Epoch(
                trainLoss: try reader.readDouble(name + ".trainLoss"),
                trainAccuracy: try reader.readDouble(name + ".trainAccuracy")
            )
            if validated {
                epoch.validationAccuracy = try reader.readDouble(name + ".validationAccuracy")
                epoch.validationLoss = try reader.readDouble(name + ".validationLoss")
            }
            epochs.append(epoch)
        }
        self.epochs = epochs
    }
}
