/// The logical name of one task, such as `relay/00017/2`: stable across runs, placements and faults.
///
/// Random streams, journal records and idempotency keys are all keyed by it.
public struct TaskID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The longest task id accepted, in bytes.
    public static let maxLength = 128

    /// The id's text (printable ASCII, 1…128 bytes).
    public let rawValue: String

    /// Makes an id known to be valid.
    public init(unchecked rawValue: String) {
        precondition(TaskID.isValid(rawValue), "invalid task id \(rawValue)")
        self.rawValue = rawValue
    }

    /// Makes an id from outside input; `nil` when invalid.
    public init?(_ rawValue: String) {
        guard TaskID.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Whether `text` is a valid task id.
    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        return !utf8.isEmpty && utf8.count <= maxLength && utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    public var description: String { self.rawValue }

    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension WireWriter {
    /// Appends a task id as a string field.
    public mutating func write(_ task: TaskID) { self.write(task.rawValue) }
}

extension WireReader {
    /// Reads a task id, rejecting invalid ones.
    public mutating func readTaskID(_ field: String) throws(WireError) -> TaskID {
        let text = try self.readString(field, maxLength: TaskID.maxLength)
        guard let task = TaskID(text) else { throw WireError(.invalidField, "\(field): not a valid task id") }
        return task
    }
}
