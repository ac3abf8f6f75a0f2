/// A request the inference API refuses, with the HTTP status it is answered with.
///
/// The server answers it as `{"error": "<description>", "code": "<code>"}` (the Open Inference
/// Protocol's error shape plus a machine-readable code) and keeps serving.
public struct InferenceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable, Codable {
        /// The body is not JSON (400); the message names the byte offset.
        case malformedJSON
        /// The JSON is valid but not an inference request this server understands (400): missing
        /// or repeated `inputs`, a wrong input name, a missing `shape`, `datatype` or `data`.
        case invalidRequest
        /// A `datatype` other than `FP32` (or `FP64`, accepted and narrowed) (400).
        case unsupportedDatatype
        /// `shape` is not `[N, F]` with `F` the model's feature count, or the data count is not
        /// `N·F` (400).
        case shapeMismatch
        /// A string, boolean, null or object where a number was expected (400).
        case nonNumeric
        /// `NaN`, `Infinity`, or a number beyond the range of `Float` (400).
        case nonFinite
        /// `N` is 0 (400).
        case emptyBatch
        /// More rows than ``InferenceServer/Configuration/maximumBatchRows`` (413).
        case batchTooLarge
        /// A body above ``InferenceServer/Configuration/maximumBodyBytes`` (413).
        case bodyTooLarge
        /// No such model, alias or version (404).
        case modelNotFound
        /// No such endpoint (404).
        case notFound
        /// The endpoint exists but not for this method (405).
        case methodNotAllowed
        /// The model failed on valid input (500); a bug, reported rather than trapped.
        case internalError
    }

    /// What went wrong.
    public var code: Code
    /// Why, in words, naming the offending part of the request.
    public var reason: String
    /// For `methodNotAllowed`, the `Allow` header's value.
    var allowedMethods: String?

    /// Makes an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The HTTP status code this error is answered with (400, 404, 405, 413 or 500).
    public var httpStatus: Int {
        switch self.code {
        case .malformedJSON, .invalidRequest, .unsupportedDatatype, .shapeMismatch, .nonNumeric, .nonFinite,
            .emptyBatch:
            400
        case .batchTooLarge, .bodyTooLarge: 413
        case .modelNotFound, .notFound: 404
        case .methodNotAllowed: 405
        case .internalError: 500
        }
    }

    /// The reason alone (it already names what was wrong).
    public var description: String { self.reason }
}
