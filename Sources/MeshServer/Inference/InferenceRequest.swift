/// An inference request's body, parsed and checked against the model it is for.
struct InferenceRequest: Sendable {
    /// The outputs a request can ask for.
    struct Outputs: OptionSet, Sendable {
        let rawValue: UInt8
        /// `logits`, FP32 `[N, C]`.
        static let logits = Outputs(rawValue: 1)
        /// `label`, INT64 `[N]`: the class label of the largest logit.
        static let label = Outputs(rawValue: 2)
        /// `probabilities`, FP32 `[N, C]`: the softmax of the logits (only when asked for).
        static let probabilities = Outputs(rawValue: 4)
        /// What a request gets when it names no outputs.
        static let standard: Outputs = [.logits, .label]
    }

    /// The request's `id`, echoed in the response.
    var id: String?
    /// N, the batch size.
    var rows: Int
    /// N·F values, row-major, finite.
    var values: [Float]
    /// What to answer with.
    var outputs: Outputs
}
