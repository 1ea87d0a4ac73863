import Aggregation

/// Scores a new value against its own series' earlier values (docs/quality.md "Outliers").
///
/// DHIS2 scores a value against the mean and standard deviation of its history, which one
/// earlier slip inflates and which is 0 for a flat series, so a spike there is never
/// flagged. This scorer uses medians: the value's distance from what the history expects,
/// in robust deviations, the smallest over three expectations, so that a value one of them
/// explains is not flagged:
///
/// - **recent level**: the median of the last 12 periods, spread by their median absolute
///   deviation;
/// - **a year earlier** (seasonal): the same period a year earlier, moved by the median
///   change between each of the last 12 periods and the one a year before it;
/// - for a **stock** (`last`), **the previous period** plus the median change between
///   consecutive periods.
///
/// Where the year-earlier expectation fits the year far better than the level (a season) and
/// its anchor was no slip, it judges alone.
///
/// A spread is never below 5 % of the expected level, and a series that is mostly zeros
/// takes half its typical nonzero value: a spike in a flat or zero-heavy series is caught.
public struct OutlierScorer: Sendable {
    /// How an indicator's values behave over time.
    public enum Shape: Sendable {
        /// A value of its own period (`sum`, `mean`, `min`, `max`).
        case level
        /// A ratio, scored on its rate (numerator / denominator).
        case rate
        /// A stock (`last`): scored on its change from the previous period too.
        case stock
    }

    /// An earlier value of the series.
    public struct Point: Sendable, Equatable {
        public var period: Period
        /// For `.rate`, the rate.
        public var value: Double

        public init(period: Period, value: Double) {
            self.period = period
            self.value = value
        }
    }

    /// How far a value lies from its history, and what the history expected.
    public struct Finding: Sendable, Equatable {
        /// Distance from the expectation that explains the value best, in robust deviations.
        public var score: Double
        /// Values within `threshold` deviations of that expectation, in the value's own terms
        /// (for `.rate` a rate; for `.stock` a level); never below 0 for a series that never was.
        public var expected: ClosedRange<Double>
    }

    /// Chosen on the fixture (bench/quality.py, docs/quality.md): at 3 the check finds 0.90
    /// of the slips at 1.4 % false positives; at 2.5, 0.91 at 2.4 %.
    public static let defaultThreshold = 3.0
    /// A full year: before it, a season or a small count's spread has not been seen yet, and
    /// on the fixture the false-positive rate is 6.1 % with 2 to 11 earlier values (1.1 % with 12).
    public static let defaultMinimumHistory = 12
    /// The periods whose median is the recent level.
    public static let recentPeriods = 12
    /// A year-earlier expectation needs this many of the last 12 periods to have a value a
    /// year before them to measure its own spread; with fewer, it borrows the level's.
    static let minimumSeasonalChanges = 6

    /// A value scoring this many deviations or more is an outlier.
    public var threshold: Double
    /// Earlier values among the last 12 periods below which nothing is scored.
    public var minimumHistory: Int

    public init(threshold: Double = defaultThreshold, minimumHistory: Int = defaultMinimumHistory) {
        self.threshold = threshold
        self.minimumHistory = minimumHistory
    }

    /// "A year earlier" in periods of `type`: 52 weeks, 12 months, 4 quarters, 1 year.
    public static func periodsPerYear(_ type: PeriodType) -> Int {
        switch type {
        case .week: return 52
        case .month: return 12
        case .quarter: return 4
        case .year: return 1
        }
    }

    /// How many periods before the scored one its history reaches: the last 12 and, for
    /// each, the period a year before it (24 months, 64 weeks, 16 quarters, 13 years).
    public static func historyPeriods(_ type: PeriodType) -> Int { recentPeriods + periodsPerYear(type) }

    /// The first period of the history a value at `period` is scored against; the window is
    /// `historyStart(for: period) ..< period`.
    public static func historyStart(for period: Period) -> Period {
        var start = period
        for _ in 0..<historyPeriods(period.type) {
            guard let previous = start.previous else { break }
            start = previous
        }
        return start
    }

    /// The value's score against `history` (the series' earlier points, in any order; others
    /// are ignored); nil when it cannot be scored: too little history, or a history of zeros.
    public func score(_ value: Double, at period: Period, history: [Point], shape: Shape) -> Finding? {
        let back = Self.periodsBack(from: period, history: history)
        let recent = (1...Self.recentPeriods).compactMap { back[$0] }
        guard recent.count >= max(1, minimumHistory) else { return nil }
        var estimates: [RobustEstimate] = []
        if let level = Self.level(recent) {
            estimates.append(level)
            if period.type != .year, let seasonal = Self.yearEarlier(back, period.type, level: level) {
                // A year-earlier expectation that fits the year far better than the level does, from
                // an anchor that was no slip itself, judges alone: else the level's spread, widened by
                // the season, lets a slip in a seasonal series pass.
                estimates =
                    seasonal.judgesAlone(threshold: threshold) ? [seasonal.estimate] : [level, seasonal.estimate]
            }
        }
        if shape == .stock, let change = Self.change(back) { estimates.append(change) }
        guard let best = estimates.min(by: { $0.score(value) < $1.score(value) }) else { return nil }
        var low = best.center - threshold * best.spread
        if recent.allSatisfy({ $0 >= 0 }) { low = max(0, low) }
        return Finding(score: best.score(value), expected: low...max(low, best.center + threshold * best.spread))
    }

    /// The value's finding when it is an outlier (scores `threshold` or more); nil when it is
    /// not scored or lies within the threshold.
    public func outlier(_ value: Double, at period: Period, history: [Point], shape: Shape) -> Finding? {
        guard let finding = score(value, at: period, history: history, shape: shape), finding.score >= threshold
        else { return nil }
        return finding
    }

    /// The history by distance: `[k]` is the value k periods before `period` (1 ... historyPeriods).
    static func periodsBack(from period: Period, history: [Point]) -> [Double?] {
        let reach = historyPeriods(period.type)
        var back = [Double?](repeating: nil, count: reach + 1)
        for point in history where point.period.type == period.type {
            let distance = Period.count(from: point.period, to: period, in: period.type)
            if (1...reach).contains(distance) { back[distance] = point.value }
        }
        return back
    }

    /// The recent level: the last periods' median.
    static func level(_ recent: [Double]) -> RobustEstimate? {
        let center = RobustEstimate.median(recent)
        return RobustEstimate.spread(of: recent, around: center, level: center).map {
            RobustEstimate(center: center, spread: $0)
        }
    }

    /// The same period a year earlier, moved by how much the last periods moved from theirs.
    static func yearEarlier(_ back: [Double?], _ type: PeriodType, level: RobustEstimate) -> YearEarlier? {
        let year = periodsPerYear(type)
        guard let yearAgo = back[year] else { return nil }
        let changes = (1...recentPeriods).compactMap { k in back[k].flatMap { now in back[k + year].map { now - $0 } } }
        let shift = changes.isEmpty ? 0 : RobustEstimate.median(changes)
        let center = yearAgo + shift
        if changes.count >= minimumSeasonalChanges,
            let spread = RobustEstimate.spread(of: changes, around: shift, level: center)
        {
            // The anchor's own change from the year before it (among the measured ones for
            // months and quarters; weeks' anchors lie beyond the history).
            let anchorChange = year <= recentPeriods ? back[2 * year].map { yearAgo - $0 } : nil
            return YearEarlier(
                estimate: RobustEstimate(center: center, spread: spread), level: level,
                anchorDeviation: anchorChange.map { abs($0 - shift) / spread })
        }
        // Too few changes to measure their spread (a series in its second year): the level's, grown
        // with the expected value (a peak month varies in proportion to its size).
        let growth = level.center == 0 ? 1 : max(1, abs(center / level.center))
        return YearEarlier(
            estimate: RobustEstimate(center: center, spread: level.spread * growth), level: level, anchorDeviation: nil)
    }

    /// The year-earlier expectation beside the level it competes with.
    struct YearEarlier {
        var estimate: RobustEstimate
        var level: RobustEstimate
        /// How far the anchor's own change lay from the typical change, in spreads; nil when
        /// the spread was borrowed or the anchor's year before is unknown.
        var anchorDeviation: Double?

        /// Whether it alone judges the value: its spread is less than half the level's (the
        /// season explains what the level calls spread) and its anchor was no slip.
        func judgesAlone(threshold: Double) -> Bool {
            guard let anchorDeviation else { return false }
            return estimate.spread * 2 < level.spread && anchorDeviation < threshold
        }
    }

    /// A stock's previous value plus its typical change between consecutive periods.
    static func change(_ back: [Double?]) -> RobustEstimate? {
        guard let previous = back[1] else { return nil }
        let changes = (1...recentPeriods).compactMap { k in back[k].flatMap { now in back[k + 1].map { now - $0 } } }
        guard !changes.isEmpty else { return nil }
        let typical = RobustEstimate.median(changes)
        return RobustEstimate.spread(of: changes, around: typical, level: previous).map {
            RobustEstimate(center: previous + typical, spread: $0)
        }
    }
}
