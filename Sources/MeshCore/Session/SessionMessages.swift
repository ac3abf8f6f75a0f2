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

    public init(role: Role, capacity: UInt32, pid: UInt32, host: String) {
        self.role = role
        self.capacity = capacity
        self.pid = pid
        self.host = host
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.role.wireValue)
        writer.write(self.capacity)
        writer.write(self.pid)
        writer.write(self.host)
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
