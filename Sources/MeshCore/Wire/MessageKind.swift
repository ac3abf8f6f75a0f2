/// The kind of a message, the second byte of every envelope (docs/WIRE.md lists each body).
///
/// Ranges: `0x01…0x0F` session and transport, `0x10…0x1F` hand-off negotiation,
/// `0x20…0x2F` blobs, `0x30…0x3F` compute, `0x40…` domain. A kind this build does not know is
/// rejected by the decoder.
public enum MessageKind: UInt8, CaseIterable, Sendable {
    /// An agent asks to join: repeated until the coordinator's welcome arrives.
    case hello = 0x01
    /// The coordinator admits an agent; proves both directions of the pub/sub path work.
    case welcome = 0x02
    /// "I am alive"; also carries a piggybacked ack.
    case heartbeat = 0x03
    /// The coordinator no longer knows this incarnation: it must rejoin as a new one.
    case evicted = 0x04
    /// A participant leaves cleanly.
    case goodbye = 0x05
    /// A standalone cumulative acknowledgement of a reliable stream.
    case ack = 0x06
    /// The coordinator tells everyone the run is over.
    case shutdown = 0x07

    /// The coordinator calls for proposals for one task from the instances of a role.
    case callForProposals = 0x10
    /// An agent offers to do a task.
    case bid = 0x11
    /// An agent declines to bid.
    case decline = 0x12
    /// The coordinator awards a task to one bidder, under a fencing award number.
    case award = 0x13
    /// The awardee takes the award.
    case accept = 0x14
    /// The awardee refuses the award.
    case refuse = 0x15
    /// The awardee returns the task's result.
    case result = 0x16
    /// The coordinator has recorded a result; the awardee may forget it.
    case resultAck = 0x17

    /// A participant asks a peer for a range of a blob.
    case blobRequest = 0x20
    /// A range of a blob and its total size, answering a request.
    case blobChunk = 0x21
    /// The peer does not have the blob (or cannot serve the range).
    case blobMissing = 0x22

    /// Whether a message of this kind travels on a reliable stream (sequenced, acked, deduplicated).
    public var isReliable: Bool {
        switch self {
        case .hello, .welcome, .heartbeat, .evicted, .goodbye, .ack: false
        // A blob fetch re-requests what is lost; chunks on a reliable stream would be kept twice.
        case .blobRequest, .blobChunk, .blobMissing: false
        default: true
        }
    }

    /// Whether this kind belongs to blob transfer (`0x20…0x2F`): answered by any participant
    /// that holds a store, from and to any peer, outside the reliable streams.
    public var isBlobTransfer: Bool {
        switch self {
        case .blobRequest, .blobChunk, .blobMissing: true
        default: false
        }
    }
}
