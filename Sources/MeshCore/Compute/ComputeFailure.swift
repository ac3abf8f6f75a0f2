/// Why a compute node could not answer a request; it names what and where, and the node keeps
/// serving.
///
/// A failure travels back as the task's failure reason (a `result` with status 1, docs/WIRE.md),
/// written ``reportedReason``: `CODE: SUBJECT[, LOCATION]: REASON`, at most
/// ``maximumReasonBytes`` of UTF-8, with CODE one of ``Code``'s raw values, so a program in any
/// language can branch on the text before the first `": "`. ``init(reportedReason:)`` reads it
/// back. The text is a deterministic function of the request, since task failures are journaled.
public struct ComputeFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The request's bytes do not decode (truncated, oversized, unknown operation, bad tag),
        /// or its operation is not the task's work.
        case malformedRequest
        /// A blob the request names could not be resolved, or its bytes do not match its hash.
        case blobUnavailable
        /// Shapes do not fit: a model and its rows, labels and rows, layer widths.
        case shapeMismatch
        /// A NaN or an infinity in rows, weights, or a diverged training loss.
        case nonFinite
        /// No rows to train on, score or predict.
        case emptyDataset
        /// A label that is not one of the classes (the location names the row).
        case labelOutOfRange
        /// A value outside its domain: a hyperparameter, an architecture, a label set, a model
        /// of the wrong kind for the operation, a model too large.
        case invalidArgument
        /// A weights file ends before its declared contents.
        case truncatedFile
        /// A weights file's SHA-256 trailer does not match its contents.
        case checksumMismatch
        /// A weights file is not one this version reads (magic, version, kind, sizes).
        case unsupportedFormat
        /// The answer would not fit in a task result (``ComputeLimits/maximumPayloadBytes``).
        case responseTooLarge
        /// Anything the node could not classify (a reason from an older or newer node).
        case unknown
    }

    /// The longest reported reason: a task result's reason field holds at most 4096 bytes.
    public static let maximumReasonBytes = 4096

    /// What went wrong.
    public var code: Code
    /// What was being read or computed ("training data", "base weights", "request").
    public var subject: String
    /// Where in it, when known ("row 17", "row 3, column 5", "byte 1024").
    public var location: String?
    /// Why, in words.
    public var reason: String

    /// A failure.
    public init(_ code: Code, _ subject: String, at location: String? = nil, _ reason: String) {
        self.code = code
        self.subject = subject
        self.location = location
        self.reason = reason
    }

    /// A request whose bytes did not decode.
    public init(malformed error: WireError) {
        self.init(.malformedRequest, "request", "\(error)")
    }

    /// Reads a reported reason back; an unknown code gives ``Code/unknown`` with the whole text
    /// as the reason. Subjects and locations hold no `": "`, so the text up to the second one is
    /// the subject (with the location, which is not split off again) and the rest is the reason.
    public init(reportedReason text: String) {
        guard let colon = text.firstRange(of: ": "), let code = Code(rawValue: String(text[..<colon.lowerBound])) else {
            self.init(.unknown, "compute node", text)
            return
        }
        let rest = String(text[colon.upperBound...])
        if let next = rest.firstRange(of: ": ") {
            self.init(code, String(rest[..<next.lowerBound]), String(rest[next.upperBound...]))
        } else {
            self.init(code, rest, "")
        }
    }

    /// `CODE: SUBJECT[, LOCATION]: REASON`, cut at a character boundary to at most
    /// ``maximumReasonBytes`` bytes of UTF-8.
    public var reportedReason: String {
        let place = self.location.map { "\(self.subject), \($0)" } ?? self.subject
        let text = "\(self.code.rawValue): \(place): \(self.reason)"
        guard text.utf8.count > Self.maximumReasonBytes else { return text }
        var cut = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            guard bytes + size <= Self.maximumReasonBytes - 3 else { break }
            cut.append(character)
            bytes += size
        }
        return cut + "..."
    }

    /// The reported reason.
    public var description: String { self.reportedReason }
}
