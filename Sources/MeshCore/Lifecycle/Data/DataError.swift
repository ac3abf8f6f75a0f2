/// Why the data agent could not do a task; it names the source and, for a file, the line and
/// column, and the agent keeps serving.
///
/// A failure travels back as the task's failure reason, written ``reportedReason``:
/// `CODE: SUBJECT: REASON`, with CODE one of ``Code``'s raw values and SUBJECT the source id (or
/// `request`). For a source that could not be read the reason is the ``DatasetError``'s own text,
/// `file:line:column: reason`:
///
/// ```
/// invalidData: ragged: scenarios/data/ragged.csv:7:5: ragged row: expected 5 cells as in the header, found 4
/// ```
///
/// The text is a deterministic function of the request and the file, since task failures are
/// journaled.
public struct DataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The task's bytes do not decode, or they are not the task's work.
        case malformedRequest
        /// The request decodes but asks for something impossible: fractions that do not sum to
        /// 1, a shift whose image shape does not match the rows, extra rows of another width, a
        /// path outside the working directory.
        case invalidRequest
        /// The source's file is missing, unreadable, too large or not UTF-8 text.
        case sourceUnavailable
        /// The source was read but its contents are unusable: a ragged row, a non-numeric cell,
        /// no label column, no rows, a label outside the declared classes, a class too small to
        /// split (the reason names the file, line and column).
        case invalidData
        /// The prepared dataset would not fit in a task result.
        case resultTooLarge
        /// A reason this build cannot classify (read back from an older or newer agent).
        case unknown
    }

    /// The longest reported reason: a task result's reason field holds at most 4096 bytes.
    public static let maximumReasonBytes = 4096

    /// What went wrong.
    public var code: Code
    /// The source id the failure is about, or `request`.
    public var subject: String
    /// Why, in words; for a file, `file:line:column: reason`.
    public var reason: String

    /// A failure of `code` about `subject`.
    public init(_ code: Code, _ subject: String, _ reason: String) {
        self.code = code
        self.subject = subject
        self.reason = reason
    }

    /// A dataset that could not be read or split, about source `sourceID`; the reason is the
    /// dataset error's `file:line:column: reason`.
    public init(_ error: DatasetError, sourceID: String) {
        self.init(.invalidData, sourceID, error.description)
    }

    /// Task bytes that did not decode.
    public init(malformed error: WireError) {
        self.init(.malformedRequest, "request", "\(error)")
    }

    /// Reads a reported reason back; an unknown code gives ``Code/unknown`` with the whole text
    /// as the reason.
    public init(reportedReason text: String) {
        guard let colon = text.firstRange(of: ": "), let code = Code(rawValue: String(text[..<colon.lowerBound])) else {
            self.init(.unknown, "data agent", text)
            return
        }
        let rest = text[colon.upperBound...]
        guard let next = rest.firstRange(of: ": ") else {
            self.init(code, String(rest), "")
            return
        }
        self.init(code, String(rest[..<next.lowerBound]), String(rest[next.upperBound...]))
    }

    /// `CODE: SUBJECT: REASON`, cut to at most ``maximumReasonBytes`` of UTF-8 at a character
    /// boundary.
    public var reportedReason: String {
        DataCodec.clipped(
            "\(self.code.rawValue): \(self.subject): \(self.reason)",
            maximumBytes: Self.maximumReasonBytes
        )
    }

    /// The reported reason.
    public var description: String { self.reportedReason }
}
