import DataQuality
import DomainModel

extension RuleCell.Combination {
    /// How a rule combines this indicator's rows: its aggregation and ratio scale.
    public init(_ indicator: Indicator) {
        self.init(
            method: indicator.aggregation,
            ratioScale: Indicator.scale(valueType: indicator.valueType, aggregation: indicator.aggregation))
    }
}
