/// The name of one participant of a mesh, such as `data-1` or `coordinator`.
///
/// An id is 1 to ``AgentID/maxLength`` bytes of ASCII letters, digits, `-`, `_` and `.`; the
/// wire carries it as UTF-8 and topics embed it, so the alphabet is kept small on purpose.
public struct AgentID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The longest id the wire accepts, in bytes.
    public static let maxLength = 64

    /// The id of the coordinator, which every mesh has exactly one of.
    public static let coordinator = AgentID(unchecked: "coordinator")

    /// The id's text.
    public let rawValue: String

    /// Makes an id from text that is known to be valid (literals, ids built from roles).
    public init(unchecked rawValue: String) {
        precondition(AgentID.isValid(rawValue), "invalid agent id \(rawValue)")
        self.rawValue = rawValue
    }

    /// Makes an id from outside input; `nil` when the text is not a valid id.
    public init?(_ rawValue: String) {
        guard AgentID.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The conventional id of instance `index` (1-based) of `role`, such as `data-2`.
    public init(role: Role, instance index: Int) {
        self.init(unchecked: "\(role.rawValue)-\(index)")
    }

    /// Whether `text` is a valid id.
    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maxLength else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }

    public var description: String { self.rawValue }

    public static func < (lhs: AgentID, rhs: AgentID) -> Bool { lhs.rawValue < rhs.rawValue }
}
