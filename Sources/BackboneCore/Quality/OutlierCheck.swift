import Aggregation
import DataQuality
import DomainModel
import Foundation

/// Scores each row of a batch against its series' own history (docs/quality.md#outliers).
struct OutlierCheck {
    /// A row whose value lies outside what its history expects.
    struct Finding {
        var row: ValidRow
        var score: Double
        var expected: ClosedRange<Double>
        var message: String
    }

    var scorer: OutlierScorer

    func findings(in rows: [ValidRow], history: SeriesHistory, indicators: [String: Indicator]) -> [Finding] {
        var found: [Finding] = []
        for row in rows {
            guard let indicator = indicators[row.indicator],
                let value = SeriesHistory.pointValue(
                    value: row.value, numerator: row.numerator, denominator: row.denominator, indicator)
            else { continue }
            let points = history.points(of: SeriesHistory.SeriesKey(row), before: row.period)
            guard let outlier = scorer.outlier(value, at: row.period, history: points, shape: Self.shape(of: indicator))
            else { continue }
            found.append(
                Finding(
                    row: row, score: outlier.score, expected: outlier.expected,
                    message: Self.message(value: value, indicator: indicator, outlier)))
        }
        return found
    }

    static func shape(of indicator: Indicator) -> OutlierScorer.Shape {
        switch indicator.aggregation {
        case .ratio: .rate
        case .last: .stock
        case .sum, .mean, .min, .max: .level
        }
    }

    static func message(value: Double, indicator: Indicator, _ outlier: OutlierScorer.Finding) -> String {
        let what = indicator.aggregation == .ratio ? "the rate \(format(value))" : format(value)
        return
            "\(what) is far from this series' history (expected \(format(outlier.expected.lowerBound))–\(format(outlier.expected.upperBound)), score \(format(outlier.score)))"
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15
            ? String(Int(number)) : String(format: "%.4g", number)
    }
}
