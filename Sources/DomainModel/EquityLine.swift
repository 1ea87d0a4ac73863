import Aggregation

/// One neighborhood's row of the equity view.
public struct EquityLine: Sendable {
    /// Why a line has no gap (docs/domain.md#equity): never a count compared with a community total.
    public enum GapReason: String, Sendable, CaseIterable {
        /// The figures are withheld from this caller (small numbers).
        case withheld
        /// The indicator has no target.
        case noTarget = "no-target"
        /// The neighborhood has no value for the period (a ratio over a zero denominator).
        case noValue = "no-value"
        /// A count, total or stock, and the community's population is unknown, so the target
        /// has no rate per 1,000 to compare with.
        case noCommunityPopulation = "no-community-population"
        /// A count, total or stock, and the neighborhood has no population recorded.
        case noPopulation = "no-population"
    }

    public var neighborhood: String
    public var population: Int?
    public var cell: Cell
    /// How far the compared figure is from the target in the better direction (positive:
    /// short of it); `nil` with a `gapReason`.
    public var gap: Double?
    /// Why `gap` is nil.
    public var gapReason: GapReason?
    /// What the gap compares: rates per 1,000 residents or values.
    public var comparison: EquityComparison

    public init(
        neighborhood: String, population: Int?, cell: Cell, gap: Double?, gapReason: GapReason? = nil,
        comparison: EquityComparison = .value
    ) {
        self.neighborhood = neighborhood
        self.population = population
        self.cell = cell
        self.gap = gap
        self.gapReason = gapReason
        self.comparison = comparison
    }

    /// The figure compared with the target: the rate per 1,000 residents, or the value.
    public var comparedFigure: Double? {
        comparison.comparesRates ? cell.per1000 : cell.value
    }
}

/// What the equity view compares with the target (docs/domain.md#equity).
public enum EquityComparison: Sendable, Equatable {
    /// Counts, totals and stocks (`sum`, `last`): each neighborhood's value per 1,000
    /// residents against the target per 1,000 residents of the community (`nil` without a
    /// target or without the community's population).
    case ratePer1000(target: Double?)
    /// Percentages, ratios, means, minima and maxima: the value against the target.
    case value

    /// `sum` and `last` indicators compare rates; the target per 1,000 is `target` × 1,000 ÷
    /// `communityPopulation`.
    public init(_ profile: IndicatorProfile, communityPopulation: Int?) {
        guard profile.method == .sum || profile.method == .last else {
            self = .value
            return
        }
        let target = profile.target?.value
        self = .ratePer1000(
            target: target.flatMap { target in
                communityPopulation.flatMap { $0 > 0 ? target * 1000 / Double($0) : nil }
            })
    }

    public var comparesRates: Bool {
        if case .ratePer1000 = self { return true }
        return false
    }

    /// The target per 1,000 residents of the community when rates are compared, else nil.
    public var targetPer1000: Double? {
        if case .ratePer1000(let rate) = self { return rate }
        return nil
    }

    /// The target as compared: per 1,000 residents for rates, else the indicator's target.
    public func comparedTarget(_ target: Double?) -> Double? {
        comparesRates ? targetPer1000 : target
    }

    /// `rate_per_1000` or `value`, as the wire and the CSV spell it.
    public var name: String { comparesRates ? "rate_per_1000" : "value" }
}
