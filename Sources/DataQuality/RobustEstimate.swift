/// What a series' history expects of its next value: a center and a spread, both robust
/// (medians, so that one earlier slip cannot move them far).
struct RobustEstimate: Equatable {
    var center: Double
    var spread: Double

    /// How many spreads `value` lies from the center.
    func score(_ value: Double) -> Double { abs(value - center) / spread }

    /// The median absolute deviation times this is the standard deviation for normal data.
    static let madToStandardDeviation = 1.4826
    /// The spread is never below this fraction of the expected level: without it a series
    /// that repeats one number (MAD 0) would flag its first small move, and one that moves
    /// by 1 % would flag a 5 % move. On the fixture, 5 % kept flat series without false
    /// positives and still caught two-digit transpositions (docs/quality.md "Outliers").
    static let levelFloor = 0.05
    /// Where the level is 0 too (a mostly-zero series), the spread is this fraction of the
    /// typical nonzero deviation, the size of the values the series does report.
    static let zeroHeavyFraction = 0.5

    /// The spread of `samples` around `center` for a value expected near `level`; nil when
    /// there is none to measure (every sample is `center` and the level is 0).
    static func spread(of samples: [Double], around center: Double, level: Double) -> Double? {
        let deviations = samples.map { abs($0 - center) }
        let spread = max(madToStandardDeviation * median(deviations), levelFloor * abs(level))
        if spread > 0 { return spread }
        let nonzero = deviations.filter { $0 > 0 }
        return nonzero.isEmpty ? nil : zeroHeavyFraction * median(nonzero)
    }

    /// The median of a nonempty list (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "the median of no values")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
