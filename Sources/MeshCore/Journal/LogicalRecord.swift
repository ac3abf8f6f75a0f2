/// One fact of the logical journal: a decision or a result, never a physical detail.
///
/// Logical records hold only what must be the same in every run of a scenario and seed — no
/// process ids, hosts, wall times, retries, award numbers or injected faults (those go to the
/// physical journal). Their order is the order of simulated time with a deterministic tie-break,
/// so the running digest over them is the run's fingerprint.
public struct LogicalRecord: Sendable, Equatable, Codable {
    /// A named value of a record; records keep their fields in the order they were written.
    public struct Field: Sendable, Equatable, Codable {
        /// The field's name.
        public var name: String
        /// Its value, as canonical text (integers in decimal, hashes in lowercase hex).
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The simulated time the fact took effect.
    public var time: SimTime
    /// What kind of fact it is, such as `task.done` or `run.started`.
    public var kind: String
    /// What it is about: a task id, a use case id, the run.
    public var subject: String
    /// The details.
    public var fields: [Field]

    public init(time: SimTime, kind: String, subject: String, fields: [Field] = []) {
        self.time = time
        self.kind = kind
        self.subject = subject
        self.fields = fields
    }

    /// The value of the first field called `name`.
    public func field(_ name: String) -> String? {
        self.fields.first { $0.name == name }?.value
    }

    /// The canonical bytes the digest covers (docs/WIRE.md, "Journal digest").
    public func canonicalBytes(index: UInt64) -> [UInt8] {
        var writer = WireWriter(capacity: 96)
        writer.write(index)
        writer.write(self.time.microseconds)
        writer.write(self.kind)
        writer.write(self.subject)
        writer.write(UInt16(self.fields.count))
        for field in self.fields {
            writer.write(field.name)
            writer.write(field.value)
        }
        return writer.bytes
    }

    public enum CodingKeys: String, CodingKey {
        case time, kind, subject, fields
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.time = SimTime(microseconds: try container.decode(UInt64.self, forKey: .time))
        self.kind = try container.decode(String.self, forKey: .kind)
        self.subject = try container.decode(String.self, forKey: .subject)
        self.fields = try container.decode([Field].self, forKey: .fields)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.time.microseconds, forKey: .time)
        try container.encode(self.kind, forKey: .kind)
        try container.encode(self.subject, forKey: .subject)
        try container.encode(self.fields, forKey: .fields)
    }
}
