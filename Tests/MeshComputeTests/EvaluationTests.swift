import Foundation
import MeshCompute
import Testing

@Suite("Evaluation")
struct EvaluationTests {
    /// Six rows of three classes (labels 10, 20, 30) with hand-set logits.
    static let logits = try! Matrix([
        [4, 0, 0],  // true 10, predicted 10
        [0, 4, 0],  // true 10, predicted 20
        [0, 4, 0],  // true 20, predicted 20
        [0, 4, 0],  // true 20, predicted 20
        [0, 0, 4],  // true 30, predicted 30
        [0, 4, 0],  // true 30, predicted 20
    ])
    static let targets = [0, 0, 1, 1, 2, 2]

    @Test func countsAndScores() throws {
        let report = try EvaluationReport(logits: Self.logits, targets: Self.targets, classLabels: [10, 20, 30])
        #expect(report.count == 6)
        #expect(abs(report.accuracy - 4.0 / 6) < 1e-12)
        #expect(report.confusionMatrix == [[1, 1, 0], [0, 2, 0], [0, 1, 1]])
        // Class 20: precision 2/4, recall 1, F1 2/3; classes 10 and 30: precision 1, recall 1/2, F1 2/3.
        #expect(report.classes.map(\.support) == [2, 2, 2])
        #expect(abs(report.macroF1 - 2.0 / 3) < 1e-12)
        #expect(abs(report.classes[1].precision - 0.5) < 1e-12)
        #expect(report.mostConfused.map { [$0.actual, $0.predicted, $0.count] } == [[10, 20, 1], [30, 20, 1]])
        #expect(report.worstClasses.count == 3)
    }

    @Test func likelihoodAndCalibrationFollowTheirDefinitions() throws {
        let report = try EvaluationReport(logits: Self.logits, targets: Self.targets, classLabels: [10, 20, 30])
        // Every row's top probability is e^4 / (e^4 + 2).
        let top = exp(4.0) / (exp(4.0) + 2)
        let low = 1 / (exp(4.0) + 2)
        #expect(abs(report.negativeLogLikelihood - (4 * -log(top) + 2 * -log(low)) / 6) < 1e-6)
        // All six rows fall in one bin, with accuracy 4/6 and confidence `top`.
        #expect(abs(report.expectedCalibrationError - abs(4.0 / 6 - top)) < 1e-6)
    }

    @Test func perfectConfidentPredictionsAreCalibrated() throws {
        let logits = try Matrix([[40, 0], [0, 40]])
        let report = try EvaluationReport(logits: logits, targets: [0, 1], classLabels: [0, 1])
        #expect(report.accuracy == 1)
        #expect(report.macroF1 == 1)
        #expect(report.expectedCalibrationError < 1e-9)
        #expect(report.mostConfused.isEmpty)
    }

    @Test func badInputIsATypedError() throws {
        #expect { try EvaluationReport(logits: Self.logits, targets: [0, 1], classLabels: [10, 20, 30]) } throws: {
            ($0 as? ComputeError)?.code == .shapeMismatch
        }
        #expect {
            try EvaluationReport(logits: Self.logits, targets: [0, 0, 1, 1, 2, 3], classLabels: [10, 20, 30])
        } throws: {
            ($0 as? ComputeError)?.code == .labelOutOfRange
        }
        #expect {
            try EvaluationReport(logits: Matrix(rows: 0, columns: 3), targets: [], classLabels: [10, 20, 30])
        } throws: {
            ($0 as? ComputeError)?.code == .emptyDataset
        }
        var nan = Self.logits
        nan[2, 1] = .nan
        #expect { try EvaluationReport(logits: nan, targets: Self.targets, classLabels: [10, 20, 30]) } throws: {
            ($0 as? ComputeError)?.code == .nonFinite
        }
    }

    @Test func agreementCountsEqualPredictions() {
        #expect(EvaluationReport.agreement([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75)
    }
}
