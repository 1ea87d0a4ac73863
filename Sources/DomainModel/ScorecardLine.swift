import Aggregation

/// One indicator's line on an agenda's scorecard.
public struct ScorecardLine: Sendable {
    public var indicator: Indicator
    public var latest: Cell?
    public var previous: Cell?
    public var latestPeriod: Period?
    public var previousPeriod: Period?
    /// `up`, `down` or `flat` against the previous period; `nil` without two periods.
    public var trend: String?
    /// Whether the trend goes the indicator's better way.
    public var improving: Bool?
    /// Whether the value reaches the target by the target period at the pace since the baseline.
    public var onTrack: Bool?
    /// The value the current pace reaches at the target period: the line through the starting
    /// point (baseline, else the first period) and the latest value, continued to the target
    /// period, clamped to the indicator's valid range.
    public var projected: Double?
    /// Standing data-quality flags on the indicator's values, any period: the coordinator's
    /// scorecard only; `nil` elsewhere.
    public var openFlags: Int?

    public init(
        indicator: Indicator, latest: Cell? = nil, previous: Cell? = nil, latestPeriod: Period? = nil,
        previousPeriod: Period? = nil,
        trend: String? = nil, improving: Bool? = nil, onTrack: Bool? = nil, projected: Double? = nil
    ) {
        self.indicator = indicator
        self.latest = latest
        self.previous = previous
        self.latestPeriod = latestPeriod
        self.previousPeriod = previousPeriod
        self.trend = trend
        self.improving = improving
        self.onTrack = onTrack
        self.projected = projected
    }
}
