/// The compute node was given something it cannot work on; the message names what and where.
///
/// Every public entry point of MeshCompute that takes input from outside (a request, a file, a
/// dataset) throws this rather than trapping, so a compute node answers a bad request with an
/// error and keeps serving. A broken internal invariant is still a `preconditionFailure`.
public struct ComputeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable, Codable {
        /// Two operands' shapes do not fit (a matrix product, a model and its input, a label count).
        case shapeMismatch
        /// A NaN or an infinity in an input, a weight or a result.
        case nonFinite
        /// No rows to train on, evaluate or predict.
        case emptyDataset
        /// A label that is not one of the model's classes.
        case labelOutOfRange
        /// A hyperparameter or option outside its domain (a negative rate, a zero batch).
        case invalidArgument
        /// A weights file ends before its declared contents.
        case truncatedFile
        /// A weights file's checksum does not match its contents.
        case checksumMismatch
        /// A weights file is not one this version reads (magic, version, kind, sizes).
        case unsupportedFormat
    }

    /// What went wrong.
    public var code: Code
    /// What was being read or computed ("weights file model.mwnn", "training features", "layer 2").
    public var subject: String
    /// Where in it, when that is known ("row 17, column 3", "byte 1024").
    public var location: String?
    /// Why, in words.
    public var reason: String

    /// Makes an error.
    public init(_ code: Code, _ subject: String, at location: String? = nil, _ reason: String) {
        self.code = code
        self.subject = subject
        self.location = location
        self.reason = reason
    }

    /// `subject, location: reason (code)`.
    public var description: String {
        let place = self.location.map { "\(self.subject), \($0)" } ?? self.subject
        return "\(place): \(self.reason) (\(self.code.rawValue))"
    }
}
