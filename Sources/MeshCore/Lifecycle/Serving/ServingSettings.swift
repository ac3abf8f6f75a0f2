/// How a lifecycle scenario serves an accepted model: quantize, deploy to `staging`, test, promote.
///
/// ```yaml
/// serving: { quantize: true, tolerance_points: 0.5, load_connections: 4, load_milliseconds: 1000 }
/// ```
public struct ServingSettings: Codable, Sendable, Equatable {
    /// Whether to try int8 quantization.
    public var quantize: Bool
    /// The most accuracy (in percentage points) int8 may lose and still be kept.
    public var tolerancePoints: Double
    /// The staging load test: connections, each with one request in flight …
    public var loadConnections: Int
    /// … for this long (wall time; its figures are physical telemetry, never in the journal).
    public var loadMilliseconds: Int

    public init(quantize: Bool = true, tolerancePoints: Double = 0.5, loadConnections: Int = 4, loadMilliseconds: Int = 1000) {
        self.quantize = quantize
        self.tolerancePoints = tolerancePoints
        self.loadConnections = loadConnections
        self.loadMilliseconds = loadMilliseconds
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case quantize
        case tolerancePoints = "tolerance_points"
        case loadConnections = "load_connections"
        case loadMilliseconds = "load_milliseconds"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ServingSettings()
        self.quantize = try container.decodeIfPresent(Bool.self, forKey: .quantize) ?? defaults.quantize
        self.tolerancePoints = try container.decodeIfPresent(Double.self, forKey: .tolerancePoints) ?? defaults.tolerancePoints
        self.loadConnections = try container.decodeIfPresent(Int.self, forKey: .loadConnections) ?? defaults.loadConnections
        self.loadMilliseconds = try container.decodeIfPresent(Int.self, forKey: .loadMilliseconds) ?? defaults.loadMilliseconds
        guard (0...100).contains(self.tolerancePoints) else {
            throw DecodingError.dataCorruptedError(forKey: .tolerancePoints, in: container, debugDescription: "points in [0, 100]")
        }
        guard (1...256).contains(self.loadConnections), (0...60_000).contains(self.loadMilliseconds) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "load_connections 1-256, load_milliseconds 0-60000"))
        }
    }
}

/// How a lifecycle scenario watches production: a stream of windows replaying the test split,
/// drifted at a scripted hour, with alert rules and a retraining trigger.
///
/// ```yaml
/// monitoring:
///   hours: 72
///   window_rows: 180
///   drift: { at_hour: 24, noise_sigma: 2, fraction: 0.3 }
///   rule: { min_ks_features: 6, min_psi_features: 6 }
///   alerts:
///     - { name: DataDrift, condition: drift, for_minutes: 60 }
///     - { name: AccuracyDrop, condition: accuracy_below, threshold: 0.9, for_minutes: 60 }
///   retrain: { windows: 2, epochs: 30 }
/// ```
public struct MonitoringSettings: Codable, Sendable, Equatable {
    /// The scripted drift of the stream: from `at_hour` on, Gaussian noise of `noise_sigma` on a
    /// `fraction` of each row's features, clipped to the training range.
    public struct Drift: Codable, Sendable, Equatable {
        public var atHour: Int
        public var noiseSigma: Double
        public var fraction: Double

        public init(atHour: Int = 24, noiseSigma: Double = 2, fraction: Double = 0.3) {
            self.atHour = atHour
            self.noiseSigma = noiseSigma
            self.fraction = fraction
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case fraction
            case atHour = "at_hour"
            case noiseSigma = "noise_sigma"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.atHour = try container.decodeIfPresent(Int.self, forKey: .atHour) ?? 24
            self.noiseSigma = try container.decodeIfPresent(Double.self, forKey: .noiseSigma) ?? 2
            self.fraction = try container.decodeIfPresent(Double.self, forKey: .fraction) ?? 0.3
            guard self.atHour >= 0, self.noiseSigma >= 0, self.noiseSigma.isFinite, (0...1).contains(self.fraction) else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath, debugDescription: "at_hour >= 0, noise_sigma >= 0, fraction in [0, 1]"))
            }
        }
    }

    /// What an alert sets off: the labelled windows it expands the data with, and the fine-tuning.
    public struct Retrain: Codable, Sendable, Equatable {
        /// The most recent labelled windows added to the data.
        public var windows: Int
        /// Fine-tuning epochs from the production model.
        public var epochs: Int

        public init(windows: Int = 2, epochs: Int = 30) {
            self.windows = windows
            self.epochs = epochs
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case windows, epochs
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.windows = try container.decodeIfPresent(Int.self, forKey: .windows) ?? 2
            self.epochs = try container.decodeIfPresent(Int.self, forKey: .epochs) ?? 30
            guard (1...24).contains(self.windows), (1...1000).contains(self.epochs) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "windows 1-24, epochs 1-1000"))
            }
        }
    }

    /// How long the stream runs, in simulated hours (one window an hour).
    public var hours: Int
    /// Rows per window.
    public var windowRows: Int
    public var drift: Drift
    /// When a window counts as drifted.
    public var rule: DriftRule
    public var alerts: [AlertRule]
    public var retrain: Retrain
    /// An Alertmanager-style webhook (`http://HOST:PORT/PATH`) the monitoring agent posts each
    /// alert's firing and resolution to, or nil.
    public var webhook: String?

    public init(
        hours: Int = 72, windowRows: Int = 180, drift: Drift = Drift(), rule: DriftRule = DriftRule(),
        alerts: [AlertRule] = MonitoringSettings.defaultAlerts, retrain: Retrain = Retrain(), webhook: String? = nil
    ) {
        self.webhook = webhook
        self.hours = hours
        self.windowRows = windowRows
        self.drift = drift
        self.rule = rule
        self.alerts = alerts
        self.retrain = retrain
    }

    /// Drift for an hour, and accuracy under 90 % for an hour.
    public static let defaultAlerts = [
        AlertRule(name: "DataDrift", condition: .drift, forMinutes: 60, severity: "warning"),
        AlertRule(name: "AccuracyDrop", condition: .accuracyBelow, threshold: 0.9, forMinutes: 60, severity: "critical"),
    ]

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case hours, drift, rule, alerts, retrain, webhook
        case windowRows = "window_rows"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.hours = try container.decodeIfPresent(Int.self, forKey: .hours) ?? 72
        self.windowRows = try container.decodeIfPresent(Int.self, forKey: .windowRows) ?? 180
        self.drift = try container.decodeIfPresent(Drift.self, forKey: .drift) ?? Drift()
        self.rule = try container.decodeIfPresent(DriftRule.self, forKey: .rule) ?? DriftRule()
        self.alerts = try container.decodeIfPresent([AlertRule].self, forKey: .alerts) ?? Self.defaultAlerts
        self.retrain = try container.decodeIfPresent(Retrain.self, forKey: .retrain) ?? Retrain()
        self.webhook = try container.decodeIfPresent(String.self, forKey: .webhook)
        if let webhook = self.webhook, !webhook.hasPrefix("http://") || webhook.count > 1024 {
            throw DecodingError.dataCorruptedError(forKey: .webhook, in: container, debugDescription: "an http:// URL")
        }
        guard (1...24 * 365).contains(self.hours), (10...10_000).contains(self.windowRows) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "hours 1-8760, window_rows 10-10000"))
        }
        guard Set(self.alerts.map(\.name)).count == self.alerts.count else {
            throw DecodingError.dataCorruptedError(forKey: .alerts, in: container, debugDescription: "alert names used once")
        }
    }
}
