public import MeshCore

extension ComputeFailure {
    /// The failure a requester sees for a maths error: the same code (the raw values are shared),
    /// subject, location and reason.
    public init(_ error: ComputeError) {
        self.init(Code(rawValue: error.code.rawValue) ?? .unknown, error.subject, at: error.location, error.reason)
    }
}
