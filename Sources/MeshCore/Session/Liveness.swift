/// The timing of hello, heartbeats and death, shared by both sides of a session.
public struct LivenessConfiguration: Sendable, Equatable {
    /// How long an agent waits for a welcome before repeating its hello, at first.
    public var helloInterval: Duration = .milliseconds(50)
    /// The longest wait between hellos (the interval doubles up to this).
    public var maxHelloInterval: Duration = .milliseconds(500)
    /// How often each side sends a heartbeat.
    public var heartbeatInterval: Duration = .milliseconds(200)
    /// After how long without hearing from a peer it is dead.
    public var deadline: Duration = .milliseconds(1500)

    public init() {}

    /// The welcome that announces this timing for run `runID`.
    public func welcome(runID: String) -> Welcome {
        Welcome(
            runID: runID,
            heartbeatMilliseconds: Self.milliseconds(self.heartbeatInterval),
            deadlineMilliseconds: Self.milliseconds(self.deadline))
    }

    /// The whole milliseconds of a duration.
    static func milliseconds(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        return UInt32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
