/// A point on the simulated clock, in microseconds since the scenario started.
///
/// Simulated time is logical: the coordinator owns it, agents read it only from the messages they
/// get, and it never depends on how fast a process ran.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since the start of the scenario.
    public var microseconds: UInt64

    /// Makes a time from microseconds since the start.
    public init(microseconds: UInt64) { self.microseconds = microseconds }

    /// The start of every scenario.
    public static let zero = SimTime(microseconds: 0)

    /// Makes a time from milliseconds since the start.
    public static func milliseconds(_ value: UInt64) -> SimTime { SimTime(microseconds: value * 1_000) }

    /// Makes a time from seconds since the start.
    public static func seconds(_ value: UInt64) -> SimTime { SimTime(microseconds: value * 1_000_000) }

    /// This time moved `span` microseconds later (saturating at the largest time).
    public func advanced(by span: UInt64) -> SimTime {
        let (sum, overflow) = self.microseconds.addingReportingOverflow(span)
        return SimTime(microseconds: overflow ? .max : sum)
    }

    public static func < (lhs: SimTime, rhs: SimTime) -> Bool { lhs.microseconds < rhs.microseconds }

    public var description: String {
        let seconds = self.microseconds / 1_000_000
        let micros = self.microseconds % 1_000_000
        let fraction = String(micros + 1_000_000).dropFirst()
        return "t=\(seconds).\(fraction)s"
    }
}

extension SimTime: Codable {
    /// Decodes microseconds since the start.
    public init(from decoder: any Decoder) throws {
        self.init(microseconds: try decoder.singleValueContainer().decode(UInt64.self))
    }

    /// Encodes as microseconds since the start.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.microseconds)
    }
}
