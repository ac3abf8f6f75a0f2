/// A gradient-descent update rule.
public enum Optimizer: Sendable, Hashable, Codable {
    /// Adam (Kingma & Ba) with bias correction: `w -= lr · m̂ / (√v̂ + ε)`.
    case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
    /// Stochastic gradient descent with (heavy-ball) momentum: `v = μv - lr·g; w += v`.
    case sgd(momentum: Float = 0.9)
}
