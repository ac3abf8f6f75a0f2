/// What a compute request asks for; each operation is one kind of task work.
public enum ComputeOperation: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Train a fresh model (`compute.train`).
    case train = 1
    /// Fine-tune a pretrained model, optionally with a new head (`compute.finetune`).
    case fineTune = 2
    /// Quantize fp32 weights to int8 (`compute.quantize`).
    case quantize = 3
    /// Score a model on labelled rows (`compute.evaluate`).
    case evaluate = 4
    /// Logits, probabilities or labels for rows (`compute.predict`).
    case predict = 5

    /// The task work name a workflow schedules this operation under.
    public var work: String {
        switch self {
        case .train: "compute.train"
        case .fineTune: "compute.finetune"
        case .quantize: "compute.quantize"
        case .evaluate: "compute.evaluate"
        case .predict: "compute.predict"
        }
    }

    /// The operation whose work name is `work`, or nil for any other work.
    public init?(work: String) {
        guard let operation = Self.allCases.first(where: { $0.work == work }) else { return nil }
        self = operation
    }

    /// The work name.
    public var description: String { self.work }
}
