/// What a participant of the mesh does; every agent process has exactly one role.
public enum Role: String, CaseIterable, Codable, Sendable, Comparable {
    /// Onboards use cases and checks their feasibility.
    case useCase = "usecase"
    /// Finds, checks, collects and prepares data.
    case data
    /// Selects, fine-tunes, searches and evaluates models.
    case model
    /// Optimizes, deploys and tests models.
    case pipeline
    /// Watches production: accuracy, latency, drift, alerts.
    case monitoring
    /// Does the BLAS work for everyone.
    case compute
    /// The human gates.
    case oversight
    /// Negotiates every hand-off and owns the simulated clock.
    case coordinator

    /// The roles of agent processes, in the order `meshwork up` starts them.
    public static let agentRoles: [Role] = [.useCase, .data, .model, .pipeline, .monitoring, .compute, .oversight]

    /// The role's number on the wire (docs/WIRE.md).
    public var wireValue: UInt8 {
        switch self {
        case .useCase: 1
        case .data: 2
        case .model: 3
        case .pipeline: 4
        case .monitoring: 5
        case .compute: 6
        case .oversight: 7
        case .coordinator: 8
        }
    }

    /// The role with wire number `value`, or `nil` when no role has it.
    public init?(wireValue value: UInt8) {
        guard let role = Role.allCases.first(where: { $0.wireValue == value }) else { return nil }
        self = role
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.wireValue < rhs.wireValue }
}
