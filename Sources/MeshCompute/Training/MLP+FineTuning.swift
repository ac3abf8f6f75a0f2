import MeshCore

extension MLP {
    /// A copy for fine-tuning on a new label set: the hidden layers are kept, the logits layer is
    /// replaced by a fresh Glorot-uniform one with an output per label of `classLabels`.
    ///
    /// Train the result with ``TrainableLayers/head`` to use the kept layers as a frozen feature
    /// extractor, or with ``TrainableLayers/all`` to adapt them too. For softmax regression there
    /// is nothing to keep and the result is a fresh model.
    /// - Parameter seed: keys the new head's initialization (`SeededRandom(seed:key: "mlp/head")`).
    public func replacingHead(classLabels: [Int], seed: UInt64) throws(ComputeError) -> MLP {
        guard !classLabels.isEmpty, Set(classLabels).count == classLabels.count else {
            throw ComputeError(
                .invalidArgument,
                "new head",
                "class labels must be distinct and not empty: \(classLabels)"
            )
        }
        var rng = SeededRandom(seed: seed, key: "mlp/head")
        let head = self.layers[self.layers.count - 1]
        var layers = self.layers
        layers[layers.count - 1] = DenseLayer.initialized(
            inputs: head.inputCount,
            outputs: classLabels.count,
            beforeReLU: false,
            using: &rng
        )
        return MLP(uncheckedLayers: layers, classLabels: classLabels)
    }
}
