import Aggregation
import DataQuality
import Foundation
import Testing

/// One test per series shape of the fixture (bench/quality.py): a planted error is flagged,
/// a normal next value is not.
@Suite struct OutlierScorerTests {
    let scorer = OutlierScorer()

    /// Monthly history from January 2024, one value a month; the scored month is the next.
    func monthly(_ values: [Double]) -> (history: [OutlierScorer.Point], next: Period) {
        let points = values.enumerated().map { offset, value in
            OutlierScorer.Point(period: month(offset), value: value)
        }
        return (points, month(values.count))
    }

    func month(_ offset: Int) -> Period { Period(type: .month, year: 2024 + offset / 12, index: offset % 12 + 1)! }

    func isOutlier(_ value: Double, after values: [Double], shape: OutlierScorer.Shape = .level) -> Bool {
        let series = monthly(values)
        return scorer.outlier(value, at: series.next, history: series.history, shape: shape) != nil
    }

    @Test func flatSeriesCatchesASpikeThoughItsDeviationIsZero() {
        let flat = [Double](repeating: 120, count: 22) + [121, 120]
        #expect(!isOutlier(120, after: flat))
        #expect(!isOutlier(126, after: flat))
        #expect(isOutlier(1200, after: flat))  // 120 typed with a zero too many
        #expect(isOutlier(210, after: flat))  // two digits swapped
        #expect(isOutlier(12, after: flat))  // a digit dropped
    }

    @Test func trendingSeriesContinuesWithoutAFlag() {
        let noise: [Double] = [0.02, -0.03, 0.01, 0.04, -0.02, 0, -0.04, 0.03, 0.01, -0.01, 0.02, -0.02]
        let trend = (0..<24).map { (100 * pow(1.04, Double($0)) * (1 + noise[$0 % 12])).rounded() }
        let next = (100 * pow(1.04, 24.0)).rounded()
        #expect(!isOutlier(next, after: trend))
        #expect(isOutlier((next / 10).rounded(.down), after: trend))
        #expect(isOutlier(next * 10, after: trend))
    }

    @Test func seasonalPeakRecursButAPeakOutOfSeasonIsFlagged() {
        // A September enrolment peak five times the usual month.
        let noise: [Double] = [3, -2, 4, 0, -3, 1, 2, -4, 0, 3, -1, 2]
        let seasonal = (0..<20).map { ($0 % 12 == 8 ? 500 : 100) + noise[$0 % 12] }  // Jan 2024 … Aug 2025
        #expect(!isOutlier(510, after: seasonal))  // September 2025
        #expect(isOutlier(5100, after: seasonal))
        #expect(isOutlier(51, after: seasonal))
        let throughSeptember = seasonal + [505]
        #expect(!isOutlier(99, after: throughSeptember))  // back to normal in October
        #expect(isOutlier(505, after: throughSeptember))  // the peak again in October
    }

    @Test func smoothSeasonCatchesASlipTheLevelsSpreadWouldPass() {
        // 400 ± 200 over the year: the last 12 months' MAD is mostly the season itself.
        let noise: [Double] = [4, -6, 2, 7, -3, 0, -5, 3, 6, -2, 1, -4]
        let season = (0..<24).map { (400 + 200 * sin(2 * Double.pi * Double($0) / 12) + noise[$0 % 12]).rounded() }
        #expect(!isOutlier(404, after: season))  // January 2026, as the last two Januaries
        #expect(isOutlier(40, after: season))  // a digit dropped: within the level's spread, not the season's
        // Last January was itself a slip: the year-earlier expectation does not judge alone.
        var slipped = season
        slipped[12] *= 10
        #expect(!isOutlier(404, after: slipped))
    }

    @Test func zeroHeavySeriesCatchesASpike() {
        var zeros = [Double](repeating: 0, count: 24)
        for (month, value) in [(3, 2.0), (9, 1), (14, 2), (17, 3), (21, 2)] { zeros[month] = value }
        #expect(!isOutlier(0, after: zeros))
        #expect(!isOutlier(2, after: zeros))
        #expect(isOutlier(30, after: zeros))
        let nothing = [Double](repeating: 0, count: 24)
        #expect(scorer.score(5, at: monthly(nothing).next, history: monthly(nothing).history, shape: .level) == nil)
    }

    @Test func smallCountsVaryWithoutAFlag() {
        let counts: [Double] = [4, 7, 5, 8, 6, 3, 9, 5, 6, 7, 4, 6, 5, 8, 6, 4, 7, 10, 5, 6, 3, 7, 6, 5]
        #expect(!isOutlier(9, after: counts))
        #expect(!isOutlier(2, after: counts))
        #expect(isOutlier(60, after: counts))
        #expect(isOutlier(33, after: counts))  // the year's cumulative total entered as June's
    }

    @Test func ratioIsScoredOnItsRateAndExpectsARate() throws {
        let rates = (0..<24).map { 0.62 + [0.02, -0.01, 0.03, 0, -0.02, 0.01][$0 % 6] }
        let series = monthly(rates)
        #expect(!isOutlier(0.6, after: rates, shape: .rate))
        let finding = try #require(scorer.outlier(0.062, at: series.next, history: series.history, shape: .rate))
        #expect(finding.expected.contains(0.62) && finding.expected.upperBound < 1)
    }

    @Test func stockIsScoredOnItsChangeAndExpectsALevel() throws {
        let noise: [Double] = [2, -3, 1, 0, 3, -2]
        let stock = (0..<24).map { 500 + 5 * Double($0) + noise[$0 % 6] }  // 500 … 617, housed people
        let series = monthly(stock)
        #expect(!isOutlier(622, after: stock, shape: .stock))
        let finding = try #require(scorer.outlier(6220, at: series.next, history: series.history, shape: .stock))
        #expect(finding.expected.contains(622) && finding.expected.upperBound < 750)  // 622 ± 3 × 5 % of 617
        #expect(isOutlier(62, after: stock, shape: .stock))
        // The month after a slip: far from the slip, near the level, not flagged.
        #expect(!isOutlier(627, after: stock + [6220], shape: .stock))
    }

    @Test func nothingIsScoredBelowTheMinimumHistory() {
        let year: [Double] = [100, 100, 101, 99, 100, 100, 102, 100, 98, 100, 100, 101]
        let short = monthly(Array(year.dropFirst()))
        #expect(scorer.score(1000, at: short.next, history: short.history, shape: .level) == nil)
        let enough = monthly(year)
        #expect(scorer.outlier(1000, at: enough.next, history: enough.history, shape: .level) != nil)
        let lenient = OutlierScorer(minimumHistory: 6)
        #expect(lenient.outlier(1000, at: short.next, history: Array(short.history.suffix(6)), shape: .level) != nil)
        // Points outside the window, or of another period type, do not count.
        let old = short.history + [OutlierScorer.Point(period: Period("2019-05")!, value: 100)]
        let quarter = short.history + [OutlierScorer.Point(period: Period("2024-Q1")!, value: 100)]
        for history in [old, quarter] {
            #expect(scorer.score(1000, at: short.next, history: history, shape: .level) == nil)
        }
    }

    @Test func historyWindowReachesAYearBeforeTheLastTwelvePeriods() {
        #expect(OutlierScorer.historyStart(for: Period("2026-03")!) == Period("2024-03")!)
        #expect(OutlierScorer.historyStart(for: Period("2026-Q1")!) == Period("2022-Q1")!)
        #expect(OutlierScorer.historyStart(for: Period("2026")!) == Period("2013")!)
        #expect(OutlierScorer.historyPeriods(.week) == 64)
        let start = OutlierScorer.historyStart(for: Period("2026-W10")!)
        #expect(Period.count(from: start, to: Period("2026-W10")!, in: .week) == 64)
    }

    @Test func thresholdAndRangeFollowTheSettings() throws {
        let flat = monthly([Double](repeating: 200, count: 12))
        let strict = OutlierScorer(threshold: 2, minimumHistory: 12)
        let finding = try #require(strict.outlier(230, at: flat.next, history: flat.history, shape: .level))
        #expect(finding.score == 3 && finding.expected == 180...220)  // spread: 5 % of 200
        #expect(scorer.outlier(230, at: flat.next, history: flat.history, shape: .level) != nil)
        #expect(OutlierScorer(threshold: 4).outlier(230, at: flat.next, history: flat.history, shape: .level) == nil)
    }
}
