/// One incarnation of one agent: the unit the coordinator awards work to and fences.
public struct AgentRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The agent.
    public var id: AgentID
    /// Its incarnation.
    public var incarnation: UInt64

    public init(id: AgentID, incarnation: UInt64) {
        self.id = id
        self.incarnation = incarnation
    }

    public static func < (lhs: AgentRef, rhs: AgentRef) -> Bool {
        (lhs.id, lhs.incarnation) < (rhs.id, rhs.incarnation)
    }

    public var description: String { "\(self.id)#\(self.incarnation)" }
}
