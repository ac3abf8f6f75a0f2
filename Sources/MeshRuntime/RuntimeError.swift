/// Something the runtime could not do, with a one-line reason naming what and where.
public struct RuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// A run directory is missing, unreadable or cannot be written.
        case runDirectory
        /// A journal file is missing, corrupt or cannot be written.
        case journal
        /// A child process could not be started or ended badly.
        case process
        /// A process crashed more often than the supervisor's restart intensity allows.
        case restartIntensity
        /// The mesh did not become ready or finish in time.
        case timeout
        /// The transport failed.
        case transport
        /// A command-line value is invalid.
        case usage
        /// A blob could not be fetched over the mesh (missing, wrong bytes) or stored.
        case blob
    }

    /// The kind of failure.
    public var code: Code
    /// What and where, in one line.
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { self.reason }
}
