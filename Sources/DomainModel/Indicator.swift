import Aggregation

/// A shared measure under one agenda: what it counts, how its values combine, how often
/// it is reported, which way is better, and the values and dimensions it allows.
///
/// The one form of an indicator in the code: the registry answers with it, ingestion
/// checks rows against it and reports aggregate by its `profile`.
public struct Indicator: Sendable, Equatable {
    /// A value at a period: a baseline or a target.
    public struct PeriodValue: Sendable, Equatable {
        public var period: Period
        public var value: Double

        public init(period: Period, value: Double) {
            self.period = period
            self.value = value
        }
    }

    public var code: String
    public var agenda: String
    public var name: String
    public var definition: String?
    public var unit: String?
    public var valueType: ValueType
    public var aggregation: AggregationMethod
    public var periodType: PeriodType
    public var direction: Direction
    public var baseline: PeriodValue?
    public var target: PeriodValue?
    public var min: Double?
    public var max: Double?
    public var dimensions: [Dimension]
    public var active: Bool

    public init(
        code: String, agenda: String, name: String, definition: String? = nil, unit: String? = nil,
        valueType: ValueType,
        aggregation: AggregationMethod, periodType: PeriodType, direction: Direction, baseline: PeriodValue? = nil,
        target: PeriodValue? = nil, min: Double? = nil, max: Double? = nil, dimensions: [Dimension], active: Bool
    ) {
        self.code = code
        self.agenda = agenda
        self.name = name
        self.definition = definition
        self.unit = unit
        self.valueType = valueType
        self.aggregation = aggregation
        self.periodType = periodType
        self.direction = direction
        self.baseline = baseline
        self.target = target
        self.min = min
        self.max = max
        self.dimensions = dimensions
        self.active = active
    }

    /// How reports combine its values.
    public var profile: IndicatorProfile {
        IndicatorProfile(
            method: aggregation, scale: Self.scale(valueType: valueType, aggregation: aggregation),
            isCount: valueType == .count,
            increaseIsBetter: direction == .increase,
            baseline: baseline.map { (period: $0.period, value: $0.value) },
            target: target.map { (period: $0.period, value: $0.value) },
            periodType: periodType)
    }

    /// What a ratio's numerator / denominator is multiplied by: 100 for a percent ratio, else
    /// 1. The rollup triggers apply the same rule (`ratio_scale` in functions.sql); a test
    /// holds the two equal.
    public static func scale(valueType: ValueType, aggregation: AggregationMethod) -> Double {
        aggregation == .ratio && valueType == .percent ? 100 : 1
    }

    /// The values the indicator can take: its declared `min`/`max`, else what its value
    /// type allows (a count is never negative, a percentage lies in 0…100).
    public var validRange: ClosedRange<Double> {
        let natural: ClosedRange<Double> =
            switch valueType {
            case .count: 0...Double.greatestFiniteMagnitude
            case .percent: 0...100
            case .amount, .rate, .score: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
            }
        let lower = Swift.max(min ?? natural.lowerBound, natural.lowerBound)
        let upper = Swift.max(Swift.min(max ?? natural.upperBound, natural.upperBound), lower)
        return lower...upper
    }
}
