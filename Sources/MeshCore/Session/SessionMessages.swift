/// An agent asks to join the mesh (kind `hello`); repeated until a welcome arrives.
public struct Hello: WireBody {
    public static let kind = MessageKind.hello
    /// The agent's role.
    public var role: Role
    /// How many tasks the agent runs at once.
    public var capacity: UInt32
    /// The OS process id (physical, for the physical journal and `processes`).
    public var pid: UInt32
    /// The host name (physical).
    public var host: String
    /// Services the agent offers to others, by name (such as `inference` →
    /// `http://10.0.0.2:8080`); physical, passed on to awardees as a directory.
    public var services: [String: String]

    public init(role: Role, capacity: UInt32, pid: UInt32, host: String, services: [String: String] = [:]) {
        self.role = role
        self.capacity = capacity
        self.pid = pid
        self.host = host
        self.services = services
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.role.wireValue)
        writer.write(self.capacity)
        writer.write(self.pid)
        writer.write(self.host)
        StringPairs.write(self.services, into: &writer)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let roleByte = try reader.readUInt8("hello.role")
        guard let role = Role(wireValue: roleByte), role != .coordinator else {
            throw WireError(.invalidField, "hello.role: \(roleByte) is not an agent role")
        }
        self.role = role
        self.capacity = try reader.readUInt32("hello.capacity")
        guard self.capacity >= 1, self.capacity <= 65_536 else {
            throw WireError(.invalidField, "hello.capacity: \(self.capacity), must be 1...65536")
        }
        self.pid = try reader.readUInt32("hello.pid")
        self.host = try reader.readString("hello.host", maxLength: 255)
        self.services = try StringPairs.read("hello.services", from: &reader)
    }
}

/// The coordinator admits an agent (kind `welcome`); its arrival proves both pub/sub directions work.
public struct Welcome: WireBody {
    public static let kind = MessageKind.welcome
    /// The run the agent joined.
    public var runID: String
    /// How often the agent must send a heartbeat, in milliseconds.
    public var heartbeatMilliseconds: UInt32
    /// After how long without hearing from the coordinator the agent treats it as dead, in milliseconds.
    public var deadlineMilliseconds: UInt32

    public init(runID: String, heartbeatMilliseconds: UInt32, deadlineMilliseconds: UInt32) {
        self.runID = runID
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.deadlineMilliseconds = deadlineMilliseconds
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.runID)
        writer.write(self.heartbeatMilliseconds)
        writer.write(self.deadlineMilliseconds)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.runID = try reader.readString("welcome.run", maxLength: 128)
        self.heartbeatMilliseconds = try reader.readUInt32("welcome.heartbeat")
        self.deadlineMilliseconds = try reader.readUInt32("welcome.deadline")
        guard self.heartbeatMilliseconds >= 1, self.deadlineMilliseconds > self.heartbeatMilliseconds else {
            throw WireError(.invalidField, "welcome: deadline must exceed a non-zero heartbeat interval")
        }
    }
}

/// A message with a reason only: `evicted`, `goodbye` and `shutdown`.
public struct Notice: Sendable, Equatable {
    /// Why.
    public var reason: String

    public init(reason: String) { self.reason = reason }

    /// The body's bytes.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.write(self.reason)
        return writer.bytes
    }

    /// Decodes a notice body.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        self.reason = try reader.readString("notice.reason", maxLength: 1024)
        try reader.expectEnd("notice body")
    }
}

/// A small string map on the wire: `u16` count, then (`string` key, `string` value) pairs in key
/// order; at most 64 pairs of at most 256-byte keys and 1024-byte values.
public enum StringPairs {
    /// The most pairs accepted.
    public static let maxPairs = 64

    /// Appends `pairs`, keys in ascending byte order of their UTF-8 (as docs/WIRE.md says and
    /// ``read(_:from:)`` demands; Swift's `String` order compares canonical forms, not bytes).
    public static func write(_ pairs: [String: String], into writer: inout WireWriter) {
        precondition(pairs.count <= maxPairs, "more than \(maxPairs) pairs")
        writer.write(UInt16(pairs.count))
        for key in pairs.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            writer.write(key)
            writer.write(pairs[key]!)
        }
    }

    /// Reads pairs, rejecting too many, oversized, repeated or unordered keys (keys out of
    /// ascending byte order would be a second spelling of the same map: found by the fuzzer,
    /// Fuzz/Crashes/hello/).
    public static func read(_ field: String, from reader: inout WireReader) throws(WireError) -> [String: String] {
        let count = Int(try reader.readUInt16(field + ".count"))
        guard count <= maxPairs else { throw WireError(.oversized, "\(field): \(count) pairs, at most \(maxPairs)") }
        var pairs: [String: String] = [:]
        var previous: String?
        for _ in 0..<count {
            let key = try reader.readString(field + ".key", maxLength: 256)
            let value = try reader.readString(field + ".value", maxLength: 1024)
            if let previous, !previous.utf8.lexicographicallyPrecedes(key.utf8) {
                let reason = previous.utf8.elementsEqual(key.utf8) ? "appears twice" : "is out of order (after \(previous))"
                throw WireError(.invalidField, "\(field): key \(key) \(reason)")
            }
            // Keys with other bytes can still be one Swift key (canonically equivalent Unicode).
            guard pairs.updateValue(value, forKey: key) == nil else {
                throw WireError(.invalidField, "\(field): key \(key) appears twice")
            }
            previous = key
        }
        return pairs
    }
}
