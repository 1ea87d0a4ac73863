/// How an indicator's values combine (docs/domain.md#aggregation-methods).
public enum AggregationMethod: String, Sendable, CaseIterable {
    /// Counts and amounts: add up, also across time.
    case sum
    /// Scores: the mean of all values.
    case mean
    /// Rates and percentages: sum of numerators over sum of denominators.
    case ratio
    /// Stocks: each series' latest value, summed across series.
    case last
    case min
    case max
}
