/// An alerting rule, as Prometheus writes one: a condition that must hold for a pending time
/// (`for`) before the alert fires, and that resolves it when it stops holding.
///
/// ```yaml
/// alerts:
///   - { name: DataDrift, condition: drift, for_minutes: 120 }
///   - { name: AccuracyDrop, condition: accuracy_below, threshold: 0.9, for_minutes: 60 }
/// ```
public struct AlertRule: Codable, Sendable, Equatable {
    /// What the rule watches.
    public enum Condition: String, Codable, Sendable, CaseIterable {
        /// The window is drifted by the scenario's ``DriftRule``.
        case drift
        /// Accuracy on the window's labelled rows is below `threshold`.
        case accuracyBelow = "accuracy_below"
    }

    /// The alert's name (`alertname` in Alertmanager terms).
    public var name: String
    public var condition: Condition
    /// The threshold of `accuracy_below`.
    public var threshold: Double
    /// How long the condition must hold before the alert fires, in simulated minutes.
    public var forMinutes: Double
    /// `warning` or `critical`.
    public var severity: String

    public init(name: String, condition: Condition, threshold: Double = 0, forMinutes: Double = 0, severity: String = "warning") {
        self.name = name
        self.condition = condition
        self.threshold = threshold
        self.forMinutes = forMinutes
        self.severity = severity
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, condition, threshold, severity
        case forMinutes = "for_minutes"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        self.condition = try container.decode(Condition.self, forKey: .condition)
        self.threshold = try container.decodeIfPresent(Double.self, forKey: .threshold) ?? 0
        self.forMinutes = try container.decodeIfPresent(Double.self, forKey: .forMinutes) ?? 0
        self.severity = try container.decodeIfPresent(String.self, forKey: .severity) ?? "warning"
        guard self.forMinutes >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .forMinutes, in: container, debugDescription: "minutes >= 0")
        }
    }

    /// The pending time in simulated microseconds.
    public var pendingMicroseconds: UInt64 { UInt64(self.forMinutes * 60_000_000) }
}

/// One rule's alert state, as a sans-I/O state machine evaluated at each window.
public struct AlertTracker: Sendable, Equatable {
    /// Where the alert is.
    public enum State: Sendable, Equatable {
        /// The condition does not hold.
        case inactive
        /// It holds since `since`, not yet for the pending time.
        case pending(since: SimTime)
        /// It fired at `firedAt` (holding since `since`).
        case firing(since: SimTime, firedAt: SimTime)
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// The alert starts firing.
        case fire(startsAt: SimTime)
        /// The alert stops firing.
        case resolve(startsAt: SimTime, endsAt: SimTime)
    }

    /// The rule.
    public let rule: AlertRule
    /// Where the alert is.
    public private(set) var state: State = .inactive

    public init(rule: AlertRule) { self.rule = rule }

    /// The condition's value at `time`.
    public mutating func evaluate(holds: Bool, at time: SimTime) -> Action? {
        switch (self.state, holds) {
        case (.inactive, false), (.firing, true):
            return nil
        case (.inactive, true):
            self.state = .pending(since: time)
            return self.promote(at: time)
        case (.pending, true):
            return self.promote(at: time)
        case (.pending, false):
            self.state = .inactive
            return nil
        case (.firing(_, let firedAt), false):
            self.state = .inactive
            return .resolve(startsAt: firedAt, endsAt: time)
        }
    }

    private mutating func promote(at time: SimTime) -> Action? {
        guard case .pending(let since) = self.state, time.microseconds >= since.microseconds + self.rule.pendingMicroseconds else {
            return nil
        }
        self.state = .firing(since: since, firedAt: time)
        return .fire(startsAt: time)
    }
}

/// An Alertmanager webhook payload (version 4), as the monitoring agent posts it.
public struct AlertmanagerPayload: Codable, Sendable, Equatable {
    public struct Alert: Codable, Sendable, Equatable {
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String
        public var fingerprint: String
    }

    public var version = "4"
    public var groupKey: String
    public var truncatedAlerts = 0
    public var status: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var commonLabels: [String: String]
    public var commonAnnotations: [String: String]
    public var externalURL: String
    public var alerts: [Alert]

    /// The payload for one alert of `rule` on `subject`; times are simulated, rendered from the
    /// scenario's epoch (`1970-01-01T00:00:00Z` + simulated time) so they are deterministic.
    public init(rule: AlertRule, subject: String, firing: Bool, startsAt: SimTime, endsAt: SimTime?, summary: String, run: String) {
        let labels = ["alertname": rule.name, "severity": rule.severity, "use_case": subject, "run": run]
        let annotations = ["summary": summary]
        self.groupKey = "{}:{alertname=\"\(rule.name)\"}"
        self.status = firing ? "firing" : "resolved"
        self.receiver = "meshwork"
        self.groupLabels = ["alertname": rule.name]
        self.commonLabels = labels
        self.commonAnnotations = annotations
        self.externalURL = "meshwork://\(run)"
        self.alerts = [
            Alert(
                status: self.status, labels: labels, annotations: annotations, startsAt: SimClock.iso8601(startsAt),
                endsAt: endsAt.map(SimClock.iso8601) ?? "0001-01-01T00:00:00Z", generatorURL: "meshwork://\(run)/monitoring",
                fingerprint: Hex.sha256(Array("\(rule.name)/\(subject)/\(startsAt.microseconds)".utf8)).prefix(16).description)
        ]
    }
}

/// Simulated time as calendar text, counted from the Unix epoch (deterministic, never the wall clock).
public enum SimClock {
    /// `1970-01-01T00:00:00Z` plus `time`, to the second.
    public static func iso8601(_ time: SimTime) -> String {
        var seconds = Int(time.microseconds / 1_000_000)
        let second = seconds % 60
        seconds /= 60
        let minute = seconds % 60
        seconds /= 60
        let hour = seconds % 24
        var days = seconds / 24
        var year = 1970
        func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
        while days >= (isLeap(year) ? 366 : 365) {
            days -= isLeap(year) ? 366 : 365
            year += 1
        }
        let lengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var month = 0
        while days >= lengths[month] {
            days -= lengths[month]
            month += 1
        }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month + 1))-\(two(days + 1))T\(two(hour)):\(two(minute)):\(two(second))Z"
    }
}
