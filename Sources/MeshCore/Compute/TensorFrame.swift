/// A row-major Float32 matrix as the compute protocol carries it: its shape, then its values as
/// raw little-endian f32 (never text numbers).
///
/// On the wire: u32 rows R (≤ 2²⁴), u32 columns C (≤ 2²⁰), R·C ≤ 2²⁸, then R·C f32. Values are
/// carried bit for bit: a NaN or an infinity decodes as itself and is refused by the node, which
/// names its row and column.
public struct TensorFrame: Sendable, Hashable {
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// `rows * columns` values, row-major.
    public let values: [Float]

    /// A frame over `values`; the count must fill the shape (a programming error otherwise).
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns, "values do not fill \(rows) x \(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A frame from nested rows of equal length.
    public init(rows nested: [[Float]]) {
        let columns = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == columns }, "rows of different lengths")
        self.init(rows: nested.count, columns: columns, values: nested.flatMap { $0 })
    }

    /// The values of row `index`.
    public func row(_ index: Int) -> ArraySlice<Float> {
        self.values[(index * self.columns)..<((index + 1) * self.columns)]
    }

    /// The number of bytes ``encode(into:)`` writes.
    public var encodedSize: Int { 8 + 4 * self.values.count }

    /// Appends the frame.
    public func encode(into writer: inout WireWriter) {
        writer.write(UInt32(self.rows))
        writer.write(UInt32(self.columns))
        ComputeCodec.writeFloats(self.values, into: &writer)
    }

    /// Reads a frame, bounding its shape before it allocates.
    public init(from reader: inout WireReader, field: String) throws(WireError) {
        let rows = Int(try reader.readUInt32(field + ".rows"))
        let columns = Int(try reader.readUInt32(field + ".columns"))
        guard rows <= ComputeLimits.maximumRows else {
            throw WireError(.oversized, "\(field).rows: \(rows), at most \(ComputeLimits.maximumRows) allowed")
        }
        guard columns <= ComputeLimits.maximumColumns else {
            throw WireError(.oversized, "\(field).columns: \(columns), at most \(ComputeLimits.maximumColumns) allowed")
        }
        let count = rows * columns
        guard count <= ComputeLimits.maximumTensorValues else {
            throw WireError(
                .oversized,
                "\(field): \(rows) x \(columns) values, at most \(ComputeLimits.maximumTensorValues) allowed"
            )
        }
        guard count * 4 <= reader.remaining else {
            throw WireError(
                .truncated,
                "\(field).values: \(rows) x \(columns) needs \(count * 4) bytes at offset \(reader.offset), \(reader.remaining) left"
            )
        }
        self.rows = rows
        self.columns = columns
        self.values = try ComputeCodec.readFloats(count, field + ".values", from: &reader)
    }
}
