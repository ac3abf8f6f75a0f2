import MeshCompute
import MeshCore
import Testing

@Suite("Matrix")
struct MatrixTests {
    static func random(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed, key: "matrix")
        return try! Matrix(
            rows: rows,
            columns: columns,
            values: (0..<(rows * columns)).map { _ in rng.nextUnitFloat() - 0.5 }
        )
    }

    static func naive(_ a: Matrix, _ b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows {
            for j in 0..<b.columns {
                var sum: Float = 0
                for k in 0..<a.columns { sum += a[i, k] * b[k, j] }
                c[i, j] = sum
            }
        }
        return c
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 2), (17, 64, 10), (32, 64, 64)])
    func sgemmMatchesTheNaiveProduct(m: Int, k: Int, n: Int) throws {
        let a = Self.random(m, k, seed: 1)
        let b = Self.random(k, n, seed: 2)
        let product = try a.multiplied(by: b)
        let expected = Self.naive(a, b)
        #expect(zip(product.values, expected.values).allSatisfy { abs($0 - $1) < 1e-5 })
        let viaTransposes = try a.transposed().multiplied(
            by: b.transposed(),
            transposingSelf: true,
            transposingOther: true
        )
        #expect(zip(viaTransposes.values, expected.values).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func shapesAreChecked() {
        #expect { try Matrix(rows: 2, columns: 3).multiplied(by: Matrix(rows: 2, columns: 3)) } throws: {
            ($0 as? ComputeError)?.code == .shapeMismatch
        }
        #expect { try Matrix(rows: 2, columns: 3, values: [1, 2]) } throws: {
            ($0 as? ComputeError)?.code == .shapeMismatch
        }
        #expect { try Matrix([[1, 2], [3]]) } throws: { ($0 as? ComputeError)?.code == .shapeMismatch }
        var m = Matrix(rows: 2, columns: 2)
        #expect { try m.addRowVector([1, 2, 3]) } throws: { ($0 as? ComputeError)?.code == .shapeMismatch }
    }

    @Test func elementwiseHelpers() throws {
        var m = try Matrix([[1, -2, 3], [-4, 5, -6]])
        try m.addRowVector([1, 1, 1])
        m.applyReLU()
        #expect(m.values == [2, 0, 4, 0, 6, 0])
        #expect(m.argmaxPerRow() == [2, 1])
        let p = try Matrix([[0, 0], [1000, 0]]).softmaxPerRow()
        #expect(p.values == [0.5, 0.5, 1, 0])
        #expect(m.gatheringRows([1, 1, 0]).values == [0, 6, 0, 0, 6, 0, 2, 0, 4])
        var bad = m
        bad[1, 2] = -.infinity
        #expect(m.isFinite && !bad.isFinite)
        #expect { try bad.checkFinite("x") } throws: { ($0 as? ComputeError)?.location == "row 1, column 2" }
    }
}
