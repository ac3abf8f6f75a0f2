/// Several payloads for one topic in one ZeroMQ message (docs/WIRE.md, "Frames"): frame 2 is the
/// byte ``marker``, then one or more parts, each a little-endian `u32` length (at least 1) and
/// that many bytes.
///
/// A transport's I/O thread packs a run of consecutive queued messages to the same topic into one
/// batch (up to ``maximumFrame`` bytes), so each hop through the forwarder costs libzmq one
/// message per batch instead of one per envelope; the receiving I/O thread splits it again, so
/// nothing above the transport sees batches. An envelope's first byte is its version (1), never
/// the marker; a payload that does start with the marker is always sent as a batch of one, so the
/// two can never be confused.
public enum PayloadBatch {
    /// The first byte of a batch frame.
    public static let marker: UInt8 = 0xFF
    /// Bytes before each part: its length as a little-endian `u32`.
    public static let partPrefix = 4
    /// The largest batch a sender packs from several messages; a single larger message is sent alone.
    public static let maximumFrame = 16 * 1024

    /// Whether `payload` must be wrapped in a batch even when it travels alone.
    public static func mustWrap(_ payload: [UInt8]) -> Bool { payload.first == self.marker }

    /// The size of a batch holding parts of these byte counts.
    public static func frameSize(partsBytes: Int, parts: Int) -> Int { 1 + parts * self.partPrefix + partsBytes }

    /// Starts a batch in `buffer` (emptied first, its capacity kept).
    public static func begin(_ buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(self.marker)
    }

    /// Appends one part to a batch begun with ``begin(_:)``.
    public static func append(_ payload: [UInt8], to buffer: inout [UInt8]) {
        precondition(!payload.isEmpty && payload.count <= Int(UInt32.max), "a batch part is 1 byte to 4 GiB")
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: payload)
    }

    /// Appends one part, given as raw bytes, to a batch begun with ``begin(_:)``.
    public static func append(_ payload: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        precondition(!payload.isEmpty && payload.count <= Int(UInt32.max), "a batch part is 1 byte to 4 GiB")
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: payload)
    }

    /// Calls `body` with each part of the batch `frame` (which starts with ``marker``), after
    /// checking the whole frame: `false`, with no call made, when it is malformed (no part, a
    /// zero length, a length past the end).
    public static func forEachPart(of frame: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard self.isWellFormed(frame) else { return false }
        var offset = 1
        while offset < frame.count {
            let length = Int(self.length(in: frame, at: offset))
            offset += self.partPrefix
            body(UnsafeRawBufferPointer(rebasing: frame[offset..<offset + length]))
            offset += length
        }
        return true
    }

    /// How many messages a payload frame carries: its parts when it is a well-formed batch, else 1.
    public static func messageCount(_ frame: UnsafeRawBufferPointer) -> Int {
        guard frame.first == self.marker else { return 1 }
        var parts = 0
        var offset = 1
        while frame.count - offset >= self.partPrefix {
            let length = Int(self.length(in: frame, at: offset))
            offset += self.partPrefix
            guard length >= 1, length <= frame.count - offset else { return 1 }
            offset += length
            parts += 1
        }
        return offset == frame.count && parts > 0 ? parts : 1
    }

    /// Whether `frame` (starting with ``marker``) splits exactly into one or more non-empty parts.
    public static func isWellFormed(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard frame.count > 1 + self.partPrefix, frame[0] == self.marker else { return false }
        var offset = 1
        while offset < frame.count {
            guard frame.count - offset >= self.partPrefix else { return false }
            let length = Int(self.length(in: frame, at: offset))
            offset += self.partPrefix
            guard length >= 1, length <= frame.count - offset else { return false }
            offset += length
        }
        return true
    }

    private static func length(in frame: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
