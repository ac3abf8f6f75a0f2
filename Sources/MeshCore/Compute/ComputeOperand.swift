/// A large operand of a compute request: carried inline, or named by the hash of a blob the
/// node's runtime resolves.
///
/// On the wire: u8 source (1 inline, 2 blob), then the inline encoding or the 32 bytes of the
/// SHA-256. A blob holds the inline value's blob form: a weights file for weights, a dataset blob
/// (``LabeledRows/encodedBlob()``) for rows.
public enum ComputeOperand<Value: Sendable & Equatable>: Sendable, Equatable {
    /// The value itself.
    case inline(Value)
    /// The value is the blob with this hash.
    case blob(BlobHash)

    /// The inline value, or nil for a blob reference.
    public var inlineValue: Value? {
        if case .inline(let value) = self { return value }
        return nil
    }
}
