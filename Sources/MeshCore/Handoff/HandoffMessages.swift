/// The coordinator asks the instances of a role to bid for a task (kind `callForProposals`).
public struct CallForProposals: WireBody {
    public static let kind = MessageKind.callForProposals
    /// The task.
    public var task: TaskID
    /// The negotiation round; bids name it so late bids of an earlier round are ignored.
    public var round: UInt32
    /// What kind of work the task is (such as `relay.hash`), so an agent can decline what it cannot do.
    public var work: String

    public init(task: TaskID, round: UInt32, work: String) {
        self.task = task
        self.round = round
        self.work = work
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.task)
        writer.write(self.round)
        writer.write(self.work)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.task = try reader.readTaskID("cfp.task")
        self.round = try reader.readUInt32("cfp.round")
        self.work = try reader.readString("cfp.work", maxLength: 128)
    }
}

/// An agent offers to do a task (kind `bid`).
public struct Bid: WireBody {
    public static let kind = MessageKind.bid
    /// The task.
    public var task: TaskID
    /// The round of the call this answers.
    public var round: UInt32
    /// How many more tasks the bidder could start now.
    public var freeSlots: UInt32

    public init(task: TaskID, round: UInt32, freeSlots: UInt32) {
        self.task = task
        self.round = round
        self.freeSlots = freeSlots
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.task)
        writer.write(self.round)
        writer.write(self.freeSlots)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.task = try reader.readTaskID("bid.task")
        self.round = try reader.readUInt32("bid.round")
        self.freeSlots = try reader.readUInt32("bid.freeSlots")
    }
}

/// An agent declines a call (kind `decline`) or refuses an award (kind `refuse`).
public struct Refusal: Sendable, Equatable {
    /// The task.
    public var task: TaskID
    /// The round (for a decline) or the award number (for a refusal).
    public var number: UInt64
    /// Why.
    public var reason: String

    public init(task: TaskID, number: UInt64, reason: String) {
        self.task = task
        self.number = number
        self.reason = reason
    }

    /// The body's bytes.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.write(self.task)
        writer.write(self.number)
        writer.write(self.reason)
        return writer.bytes
    }

    /// Decodes a refusal body.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        self.task = try reader.readTaskID("refusal.task")
        self.number = try reader.readUInt64("refusal.number")
        self.reason = try reader.readString("refusal.reason", maxLength: 1024)
        try reader.expectEnd("refusal body")
    }
}

/// The coordinator awards a task to one bidder (kind `award`).
///
/// The award number fences: a result that names an older award of the same task is stale and ignored.
public struct Award: WireBody {
    public static let kind = MessageKind.award
    /// The task.
    public var task: TaskID
    /// The fencing number of this award (increases with every re-award of the task).
    public var award: UInt64
    /// What kind of work it is.
    public var work: String
    /// The task's input.
    public var input: [UInt8]
    /// Physical context for the awardee — the mesh's service directory (`pipeline-1.inference` →
    /// a URL) — which the task's logical input must never depend on.
    public var context: [String: String]

    public init(task: TaskID, award: UInt64, work: String, input: [UInt8], context: [String: String] = [:]) {
        self.task = task
        self.award = award
        self.work = work
        self.input = input
        self.context = context
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.task)
        writer.write(self.award)
        writer.write(self.work)
        writer.writeBlob(self.input)
        StringPairs.write(self.context, into: &writer)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.task = try reader.readTaskID("award.task")
        self.award = try reader.readUInt64("award.number")
        self.work = try reader.readString("award.work", maxLength: 128)
        self.input = try reader.readBlob("award.input", maxLength: Envelope.maxBodySize)
        self.context = try StringPairs.read("award.context", from: &reader)
    }
}

/// A reply that names a task and an award only: `accept` and `resultAck`.
public struct AwardReference: Sendable, Equatable, Hashable {
    /// The task.
    public var task: TaskID
    /// The award number.
    public var award: UInt64

    public init(task: TaskID, award: UInt64) {
        self.task = task
        self.award = award
    }

    /// The body's bytes.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.write(self.task)
        writer.write(self.award)
        return writer.bytes
    }

    /// Decodes the body.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        self.task = try reader.readTaskID("reference.task")
        self.award = try reader.readUInt64("reference.award")
        try reader.expectEnd("award reference body")
    }
}

/// The awardee returns a task's outcome (kind `result`).
public struct TaskResult: WireBody {
    public static let kind = MessageKind.result
    /// What came of the task.
    public enum Outcome: Sendable, Equatable {
        /// The task was done; its output.
        case done([UInt8])
        /// The task cannot be done by anyone (bad input, say); the reason.
        case failed(String)
    }

    /// The task.
    public var task: TaskID
    /// The award this result is for.
    public var award: UInt64
    /// What came of it.
    public var outcome: Outcome

    /// Physical telemetry of the work (latencies, throughput); journaled physically, never part
    /// of the logical history.
    public var telemetry: [String: String]

    public init(task: TaskID, award: UInt64, outcome: Outcome, telemetry: [String: String] = [:]) {
        self.task = task
        self.award = award
        self.outcome = outcome
        self.telemetry = telemetry
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(self.task)
        writer.write(self.award)
        switch self.outcome {
        case .done(let output):
            writer.write(UInt8(0))
            writer.writeBlob(output)
        case .failed(let reason):
            writer.write(UInt8(1))
            writer.write(reason)
        }
        StringPairs.write(self.telemetry, into: &writer)
    }

    public init(from reader: inout WireReader) throws(WireError) {
        self.task = try reader.readTaskID("result.task")
        self.award = try reader.readUInt64("result.award")
        switch try reader.readUInt8("result.status") {
        case 0: self.outcome = .done(try reader.readBlob("result.output", maxLength: Envelope.maxBodySize))
        case 1: self.outcome = .failed(try reader.readString("result.reason", maxLength: 4096))
        case let other: throw WireError(.invalidField, "result.status: \(other), must be 0 (done) or 1 (failed)")
        }
        self.telemetry = try StringPairs.read("result.telemetry", from: &reader)
    }
}
