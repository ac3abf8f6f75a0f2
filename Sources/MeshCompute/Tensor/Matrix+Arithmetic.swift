import Foundation

extension Matrix {
    /// `op(self) * op(other)` through `cblas_sgemm`, where `op` transposes when asked.
    ///
    /// Runs on the calling thread; call it from a ``ComputeExecutor`` job for large operands.
    /// - Throws: ``ComputeError/Code/shapeMismatch`` when the inner dimensions differ.
    public func multiplied(
        by other: Matrix,
        transposingSelf: Bool = false,
        transposingOther: Bool = false
    ) throws(ComputeError) -> Matrix {
        let m = transposingSelf ? self.columns : self.rows
        let k = transposingSelf ? self.rows : self.columns
        let otherK = transposingOther ? other.columns : other.rows
        let n = transposingOther ? other.rows : other.columns
        guard k == otherK else {
            throw ComputeError(
                .shapeMismatch,
                "matrix product",
                "\(m) x \(k) times \(otherK) x \(n): inner dimensions \(k) and \(otherK) differ"
            )
        }
        var result = Matrix(rows: m, columns: n)
        if m == 0 || n == 0 { return result }
        self.withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        transposeA: transposingSelf,
                        transposeB: transposingOther,
                        m: m,
                        n: n,
                        k: k,
                        alpha: 1,
                        a: a.baseAddress!,
                        lda: self.columns,
                        b: b.baseAddress!,
                        ldb: other.columns,
                        beta: 0,
                        c: c.baseAddress!,
                        ldc: n
                    )
                }
            }
        }
        return result
    }

    /// Adds `vector` to every row; throws when its length is not ``columns``.
    public mutating func addRowVector(_ vector: [Float]) throws(ComputeError) {
        guard vector.count == self.columns else {
            throw ComputeError(
                .shapeMismatch,
                "row vector",
                "\(vector.count) values added to rows of \(self.columns)"
            )
        }
        let columns = self.columns
        vector.withUnsafeBufferPointer { v in
            self.withUnsafeMutableBufferPointer { values in
                var offset = 0
                while offset < values.count {
                    for j in 0..<columns { values[offset + j] += v[j] }
                    offset += columns
                }
            }
        }
    }

    /// Replaces every negative value by zero (ReLU).
    public mutating func applyReLU() {
        self.withUnsafeMutableBufferPointer { values in
            for index in values.indices { values[index] = max(values[index], 0) }
        }
    }

    /// The index of the largest value of each row (the first one on ties).
    public func argmaxPerRow() -> [Int] {
        var result = [Int](repeating: 0, count: self.rows)
        self.withUnsafeBufferPointer { values in
            for row in 0..<self.rows {
                var best = 0
                var bestValue = values[row * self.columns]
                for column in 1..<max(self.columns, 1) where values[row * self.columns + column] > bestValue {
                    best = column
                    bestValue = values[row * self.columns + column]
                }
                result[row] = best
            }
        }
        return result
    }

    /// Each row turned into probabilities by a numerically stable softmax.
    public func softmaxPerRow() -> Matrix {
        var result = self
        let columns = self.columns
        result.withUnsafeMutableBufferPointer { values in
            for row in 0..<self.rows {
                Softmax.inPlace(values.baseAddress! + row * columns, count: columns)
            }
        }
        return result
    }
}

/// Softmax over contiguous rows, shared by inference and training.
enum Softmax {
    /// Overwrites `count` logits at `row` with their softmax; returns log(sum(exp(x - max))) + max,
    /// the log-partition, so the caller can form log-probabilities without a `log` of a tiny `p`.
    @inline(__always)
    @discardableResult
    static func inPlace(_ row: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var maximum = -Float.infinity
        for j in 0..<count { maximum = max(maximum, row[j]) }
        var sum: Float = 0
        for j in 0..<count {
            let e = exp(row[j] - maximum)
            row[j] = e
            sum += e
        }
        let inverse = 1 / sum
        for j in 0..<count { row[j] *= inverse }
        return log(sum) + maximum
    }
}
