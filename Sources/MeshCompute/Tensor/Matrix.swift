/// A dense row-major matrix of `Float`, the one tensor type of the compute node.
///
/// It is a value type over one contiguous array, so it is `Sendable`, copies on write, and hands
/// its storage to BLAS without a copy. Products go through `cblas_sgemm`
/// (``multiplied(by:transposingSelf:transposingOther:)``); element-wise work is written as
/// plain loops over the buffer that the optimizer vectorizes.
///
/// ```swift
/// let x = try Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
/// let w = Matrix(rows: 3, columns: 4, repeating: 0.5)
/// let y = try x.multiplied(by: w)        // 2 x 4
/// ```
public struct Matrix: Sendable, Hashable {
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// `rows * columns` values, row-major.
    public private(set) var values: [Float]

    /// A matrix with every value `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "negative matrix shape")
        self.rows = rows
        self.columns = columns
        self.values = [Float](repeating: value, count: rows * columns)
    }

    /// A matrix over `values` (row-major); throws when the count does not fill the shape.
    public init(rows: Int, columns: Int, values: [Float]) throws(ComputeError) {
        guard rows >= 0, columns >= 0, values.count == rows * columns else {
            throw ComputeError(
                .shapeMismatch,
                "matrix",
                "\(values.count) values cannot fill \(rows) x \(columns)"
            )
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix from nested rows, which must all have the same length.
    public init(_ nested: [[Float]]) throws(ComputeError) {
        let columns = nested.first?.count ?? 0
        for (index, row) in nested.enumerated() where row.count != columns {
            throw ComputeError(
                .shapeMismatch,
                "matrix",
                at: "row \(index)",
                "\(row.count) values where row 0 has \(columns)"
            )
        }
        self.rows = nested.count
        self.columns = columns
        self.values = nested.flatMap { $0 }
    }

    /// Wraps `values` whose count the caller has already checked.
    init(rows: Int, columns: Int, unchecked values: [Float]) {
        assert(values.count == rows * columns)
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// `(rows, columns)`.
    public var shape: (rows: Int, columns: Int) { (self.rows, self.columns) }

    /// The value at `row`, `column`.
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(row >= 0 && row < self.rows && column >= 0 && column < self.columns, "index out of range")
            return self.values[row * self.columns + column]
        }
        set {
            precondition(row >= 0 && row < self.rows && column >= 0 && column < self.columns, "index out of range")
            self.values[row * self.columns + column] = newValue
        }
    }

    /// The values of row `index`.
    public func row(_ index: Int) -> ArraySlice<Float> {
        self.values[(index * self.columns)..<((index + 1) * self.columns)]
    }

    /// A matrix of the rows at `indices`, in that order.
    public func gatheringRows(_ indices: [Int]) -> Matrix {
        var values = [Float](repeating: 0, count: indices.count * self.columns)
        let columns = self.columns
        self.values.withUnsafeBufferPointer { source in
            values.withUnsafeMutableBufferPointer { target in
                for (slot, index) in indices.enumerated() {
                    precondition(index >= 0 && index < self.rows, "row index out of range")
                    (target.baseAddress! + slot * columns).update(
                        from: source.baseAddress! + index * columns,
                        count: columns
                    )
                }
            }
        }
        return Matrix(rows: indices.count, columns: columns, unchecked: values)
    }

    /// The transpose.
    public func transposed() -> Matrix {
        var result = [Float](repeating: 0, count: self.values.count)
        for row in 0..<self.rows {
            for column in 0..<self.columns {
                result[column * self.rows + row] = self.values[row * self.columns + column]
            }
        }
        return Matrix(rows: self.columns, columns: self.rows, unchecked: result)
    }

    /// Gives the storage to `body` for in-place work; the shape cannot change.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try self.values.withUnsafeMutableBufferPointer(body)
    }

    /// Gives the storage to `body` for reading.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try self.values.withUnsafeBufferPointer(body)
    }

    /// True when no value is NaN or infinite.
    public var isFinite: Bool {
        self.values.withUnsafeBufferPointer { buffer in
            // A sum of `x * 0` is NaN exactly when some x is NaN or infinite, and vectorizes,
            // unlike an early-exit search.
            var probe: Float = 0
            for value in buffer { probe += value * 0 }
            return probe == 0
        }
    }

    /// Throws ``ComputeError/Code/nonFinite`` naming `subject` and the first bad cell.
    public func checkFinite(_ subject: String) throws(ComputeError) {
        guard !self.isFinite else { return }
        let index = self.values.firstIndex { !$0.isFinite }!
        throw ComputeError(
            .nonFinite,
            subject,
            at: "row \(index / max(self.columns, 1)), column \(index % max(self.columns, 1))",
            "value \(self.values[index]) is not finite"
        )
    }
}
