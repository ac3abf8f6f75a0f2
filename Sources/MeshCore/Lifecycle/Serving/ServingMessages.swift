/// The works of the pipeline and monitoring agents.
public enum ServingWork {
    /// Pipeline agent: serve a model version under an alias (`staging`).
    public static let deploy = "pipeline.deploy"
    /// Pipeline agent: test a served version end to end over HTTP (hold-out, load, edge cases).
    public static let test = "pipeline.test"
    /// Pipeline agent: point an alias (`production`) at a version, atomically.
    public static let promote = "pipeline.promote"
    /// Monitoring agent: send a stream window through the production model and measure it.
    public static let window = "monitoring.window"
    /// Monitoring agent: post an alert to the scenario's webhook (Alertmanager's JSON shape).
    public static let notify = "monitoring.notify"
}

/// An alert to post (work `monitoring.notify`); the output names the alert and its status only,
/// the delivery (HTTP status, retries) is telemetry.
public struct AlertNotification: Codable, Sendable, Equatable {
    public var webhook: String
    public var payload: AlertmanagerPayload

    public init(webhook: String, payload: AlertmanagerPayload) {
        self.webhook = webhook
        self.payload = payload
    }
}

/// The bytes of the serving works: a 4-byte magic, u16 version 1, a canonical-JSON head (u32
/// length) and binary parts (u32 count, then each u32 length and bytes) — weights files, row
/// blobs, a drift reference.
public enum ServingCodec {
    /// The version every message carries.
    public static let version: UInt16 = 1
    /// The most parts, and the most bytes one may hold.
    public static let maximumParts = 8
    public static let maximumPartBytes = 64 << 20

    /// `head` and `parts` after `magic`.
    public static func encode<Head: Encodable>(_ magic: String, head: Head, parts: [[UInt8]] = []) -> [UInt8] {
        precondition(parts.count <= maximumParts, "too many parts")
        var writer = WireWriter(capacity: 64 + parts.reduce(0) { $0 + $1.count + 4 })
        DataProtocol.writeHeader(Array(magic.utf8), into: &writer)
        writer.writeBlob(CanonicalJSON.encode(head))
        writer.write(UInt32(parts.count))
        for part in parts { writer.writeBlob(part) }
        return writer.bytes
    }

    /// The head and parts of `bytes`, which must start with `magic`.
    public static func decode<Head: Decodable>(
        _ magic: String, _ what: String, as type: Head.Type, from bytes: [UInt8]
    ) throws(WireError) -> (head: Head, parts: [[UInt8]]) {
        var reader = WireReader(bytes)
        try DataProtocol.readHeader(Array(magic.utf8), what, from: &reader)
        let json = try reader.readBlob("\(what).head", maxLength: 1 << 20)
        let head = try CanonicalJSON.decode(Head.self, from: json, what: what)
        let count = Int(try reader.readUInt32("\(what).parts"))
        guard count <= maximumParts else {
            throw WireError(.oversized, "\(what).parts: \(count), at most \(maximumParts)")
        }
        var parts: [[UInt8]] = []
        for index in 0..<count { parts.append(try reader.readBlob("\(what).part[\(index)]", maxLength: maximumPartBytes)) }
        try reader.expectEnd(what)
        return (head, parts)
    }

    /// Part `index` of `parts`, or a clear error naming it.
    static func part(_ parts: [[UInt8]], _ index: Int, _ what: String) throws(WireError) -> [UInt8] {
        guard index < parts.count else { throw WireError(.truncated, "\(what): part \(index) is missing") }
        return parts[index]
    }
}

/// Serve a model version under an alias (work `pipeline.deploy`).
public struct DeployRequest: Sendable, Equatable {
    public struct Head: Codable, Sendable, Equatable {
        public var name: String
        public var version: Int
        public var alias: String
        /// `fp32` or `int8`: the weights that answer requests.
        public var precision: String
        public var standardizer: Standardizer?
        public var dataset: String
    }

    public var head: Head
    /// The fp32 weights file; the int8 one, empty when there is none.
    public var fp32: SerializedWeights
    public var int8: SerializedWeights?

    public init(
        name: String, version: Int, alias: String, precision: String, standardizer: Standardizer?, dataset: String,
        fp32: SerializedWeights, int8: SerializedWeights?
    ) {
        self.head = Head(name: name, version: version, alias: alias, precision: precision, standardizer: standardizer, dataset: dataset)
        self.fp32 = fp32
        self.int8 = int8
    }

    public func encoded() -> [UInt8] {
        ServingCodec.encode("MWSD", head: self.head, parts: [self.fp32.bytes, self.int8?.bytes ?? []])
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let (head, parts) = try ServingCodec.decode("MWSD", "deploy_request", as: Head.self, from: bytes)
        self.head = head
        self.fp32 = SerializedWeights(try ServingCodec.part(parts, 0, "deploy_request"))
        let int8 = try ServingCodec.part(parts, 1, "deploy_request")
        self.int8 = int8.isEmpty ? nil : SerializedWeights(int8)
        guard ["fp32", "int8"].contains(head.precision), head.precision == "fp32" || self.int8 != nil else {
            throw WireError(.invalidField, "deploy_request.precision: \(head.precision) without its weights")
        }
    }
}

/// What a deploy did.
public struct DeploymentReport: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var alias: String
    public var precision: String

    public init(name: String, version: Int, alias: String, precision: String) {
        self.name = name
        self.version = version
        self.alias = alias
        self.precision = precision
    }
}

/// Test a served version end to end over HTTP (work `pipeline.test`): the hold-out's accuracy,
/// a bounded load test, the edge cases.
public struct ServingTestRequest: Sendable, Equatable {
    public struct Head: Codable, Sendable, Equatable {
        public var name: String
        public var version: Int
        public var connections: Int
        public var milliseconds: Int
    }

    public var head: Head
    /// The hold-out rows, raw (the server standardizes), and their labels.
    public var rows: LabeledRows
    /// The version, for an agent that does not serve it yet (as ``PromoteRequest/deploy``).
    public var deploy: DeployRequest?

    public init(name: String, version: Int, connections: Int, milliseconds: Int, rows: LabeledRows, deploy: DeployRequest? = nil) {
        self.head = Head(name: name, version: version, connections: connections, milliseconds: milliseconds)
        self.rows = rows
        self.deploy = deploy
    }

    public func encoded() -> [UInt8] {
        ServingCodec.encode("MWST", head: self.head, parts: [self.rows.encodedBlob(), self.deploy?.encoded() ?? []])
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let (head, parts) = try ServingCodec.decode("MWST", "serving_test_request", as: Head.self, from: bytes)
        self.head = head
        self.rows = try LabeledRows(decodingBlob: try ServingCodec.part(parts, 0, "serving_test_request"))
        let deploy = try ServingCodec.part(parts, 1, "serving_test_request")
        self.deploy = deploy.isEmpty ? nil : try DeployRequest(decoding: deploy)
    }
}

/// What the end-to-end test found (only what is the same in every run: latency is telemetry).
public struct ServingTestReport: Codable, Sendable, Equatable {
    /// One malformed request and how it was answered.
    public struct EdgeCase: Codable, Sendable, Equatable {
        public var name: String
        public var status: Int
        /// Whether it was refused with a 4xx and a JSON `error` body.
        public var refused: Bool

        public init(name: String, status: Int, refused: Bool) {
            self.name = name
            self.status = status
            self.refused = refused
        }
    }

    public var name: String
    public var version: Int
    public var rows: Int
    public var correct: Int
    public var edgeCases: [EdgeCase]
    /// Whether the server still answered correctly after the edge cases.
    public var servingAfterEdgeCases: Bool

    public init(name: String, version: Int, rows: Int, correct: Int, edgeCases: [EdgeCase], servingAfterEdgeCases: Bool) {
        self.name = name
        self.version = version
        self.rows = rows
        self.correct = correct
        self.edgeCases = edgeCases
        self.servingAfterEdgeCases = servingAfterEdgeCases
    }

    public var accuracy: Double { self.rows == 0 ? 0 : Double(self.correct) / Double(self.rows) }
    /// Every edge case refused and the server still serving.
    public var passed: Bool { self.edgeCases.allSatisfy(\.refused) && self.servingAfterEdgeCases }
}

/// Point an alias at a version (work `pipeline.promote`). It carries the version's deploy
/// request, so that whichever pipeline agent is awarded the task can serve it (a mesh may run
/// several; a version deployed on one is deployed on the other first).
public struct PromoteRequest: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var alias: String
    /// The version, for an agent that does not serve it yet.
    public var deploy: DeployRequest?

    public init(name: String, version: Int, alias: String, deploy: DeployRequest? = nil) {
        self.name = name
        self.version = version
        self.alias = alias
        self.deploy = deploy
    }

    public enum CodingKeys: String, CodingKey {
        case name, version, alias
    }

    public func encoded() -> [UInt8] {
        ServingCodec.encode("MWSP", head: self, parts: [self.deploy?.encoded() ?? []])
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let (head, parts) = try ServingCodec.decode("MWSP", "promote_request", as: PromoteRequest.self, from: bytes)
        self = head
        let deploy = try ServingCodec.part(parts, 0, "promote_request")
        self.deploy = deploy.isEmpty ? nil : try DeployRequest(decoding: deploy)
    }
}

/// One window of the stream (work `monitoring.window`): the rows go through `version` of `name`
/// on the pipeline agent's inference API; drift is measured against the training reference.
public struct WindowRequest: Sendable, Equatable {
    public struct Head: Codable, Sendable, Equatable {
        public var useCase: String
        public var name: String
        public var version: Int
        public var window: Int
        public var rule: DriftRule
        /// Rows from here on are held out (never trained on); accuracy is also counted on them alone.
        public var heldOutFrom: Int
    }

    public var head: Head
    /// The window's rows, raw, and their labels (the labelled part of the stream).
    public var rows: LabeledRows
    public var reference: DriftReference

    public init(
        useCase: String, name: String, version: Int, window: Int, rule: DriftRule, rows: LabeledRows, heldOutFrom: Int,
        reference: DriftReference
    ) {
        self.head = Head(useCase: useCase, name: name, version: version, window: window, rule: rule, heldOutFrom: heldOutFrom)
        self.rows = rows
        self.reference = reference
    }

    public func encoded() -> [UInt8] {
        ServingCodec.encode("MWMW", head: self.head, parts: [self.rows.encodedBlob(), self.reference.encoded()])
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let (head, parts) = try ServingCodec.decode("MWMW", "window_request", as: Head.self, from: bytes)
        self.head = head
        self.rows = try LabeledRows(decodingBlob: try ServingCodec.part(parts, 0, "window_request"))
        self.reference = try DriftReference(decoding: try ServingCodec.part(parts, 1, "window_request"))
        guard (0...self.rows.labels.count).contains(head.heldOutFrom) else {
            throw WireError(.invalidField, "window_request.held_out_from: \(head.heldOutFrom) is outside the \(self.rows.labels.count) rows")
        }
        guard self.reference.features.count == self.rows.features.columns else {
            throw WireError(
                .invalidField,
                "window_request: the reference has \(self.reference.features.count) features, the rows \(self.rows.features.columns)")
        }
    }
}

/// What one window showed.
public struct WindowReport: Codable, Sendable, Equatable {
    public var window: Int
    public var version: Int
    public var rows: Int
    public var correct: Int
    /// The held-out rows and how many of them were right.
    public var heldOutRows: Int
    public var heldOutCorrect: Int
    public var ksFlagged: Int
    public var psiFlagged: Int
    public var maxKS: Double
    public var maxPSI: Double
    /// Whether the window is drifted by the rule.
    public var drifted: Bool

    public init(
        window: Int, version: Int, rows: Int, correct: Int, heldOutRows: Int, heldOutCorrect: Int, drift: WindowDrift, drifted: Bool
    ) {
        self.window = window
        self.version = version
        self.rows = rows
        self.correct = correct
        self.heldOutRows = heldOutRows
        self.heldOutCorrect = heldOutCorrect
        self.ksFlagged = drift.ksFlagged.count
        self.psiFlagged = drift.psiFlagged.count
        self.maxKS = (drift.maxKS * 10_000).rounded() / 10_000
        self.maxPSI = (drift.maxPSI * 10_000).rounded() / 10_000
        self.drifted = drifted
    }

    public var accuracy: Double { self.rows == 0 ? 0 : Double(self.correct) / Double(self.rows) }
    public var heldOutAccuracy: Double { self.heldOutRows == 0 ? 0 : Double(self.heldOutCorrect) / Double(self.heldOutRows) }
}

extension DriftReference {
    /// Binary: u32 features, then per feature u32 count and f32 sorted values, u32 count and f32
    /// edges, and the fractions as f64.
    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 16 + self.features.reduce(0) { $0 + 12 + 4 * $1.sorted.count + 12 * $1.edges.count + 8 })
        writer.write(UInt32(self.features.count))
        for feature in self.features {
            writer.write(UInt32(feature.sorted.count))
            ComputeCodec.writeFloats(feature.sorted, into: &writer)
            writer.write(UInt32(feature.edges.count))
            ComputeCodec.writeFloats(feature.edges, into: &writer)
            for fraction in feature.fractions { writer.write(fraction) }
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        let count = try ComputeCodec.readCount("drift_reference.features", maximum: 1 << 16, elementSize: 8, from: &reader)
        var features: [Feature] = []
        for index in 0..<count {
            let field = "drift_reference.feature[\(index)]"
            let values = try ComputeCodec.readCount(field + ".values", maximum: Self.maxValues, elementSize: 4, from: &reader)
            guard values > 0 else { throw WireError(.invalidField, field + ".values: none") }
            let sorted = try ComputeCodec.readFloats(values, field + ".values", from: &reader)
            let edgeCount = try ComputeCodec.readCount(field + ".edges", maximum: Self.bins, elementSize: 12, from: &reader)
            let edges = try ComputeCodec.readFloats(edgeCount, field + ".edges", from: &reader)
            var fractions: [Double] = []
            for bin in 0...edgeCount { fractions.append(try reader.readDouble(field + ".fraction[\(bin)]")) }
            features.append(Feature(sorted: sorted, edges: edges, fractions: fractions))
        }
        try reader.expectEnd("drift_reference")
        self.init(features: features)
    }

    /// A reference from its parts.
    public init(features: [Feature]) {
        self.features = features
    }
}
