/// What the aggregator needs to know about an indicator.
public struct IndicatorProfile: Sendable {
    /// How values combine.
    public var method: AggregationMethod
    /// 100 for percent ratios, else 1.
    public var scale: Double
    /// Whether the value type is `count` (the count threshold of suppression applies).
    public var isCount: Bool
    /// The better direction; progress needs no help from it, as a decreasing target lies below its baseline.
    public var increaseIsBetter: Bool
    /// Where the indicator started.
    public var baseline: (period: Period, value: Double)?
    /// Where it should get to.
    public var target: (period: Period, value: Double)?
    /// The indicator's native period type.
    public var periodType: PeriodType

    public init(
        method: AggregationMethod, scale: Double = 1, isCount: Bool = false, increaseIsBetter: Bool = true,
        baseline: (period: Period, value: Double)? = nil, target: (period: Period, value: Double)? = nil,
        periodType: PeriodType
    ) {
        self.method = method
        self.scale = scale
        self.isCount = isCount
        self.increaseIsBetter = increaseIsBetter
        self.baseline = baseline
        self.target = target
        self.periodType = periodType
    }
}
