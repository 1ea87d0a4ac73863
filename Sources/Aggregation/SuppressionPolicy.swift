/// The rules a cell must pass before partner and viewer keys see it (docs/privacy.md#how-a-release-protects-its-grid).
///
/// Each rule protects one partner's number from someone who reads the cell: too few
/// partners (another partner subtracts its own figure), a small count, one partner's
/// dominance (the total *is* that partner's number), and the p% rule (the second-largest
/// partner, knowing its own figure, could estimate the largest one to within p%).
public struct SuppressionPolicy: Sendable, Hashable {
    /// A cell backed by fewer distinct partners is withheld.
    public var minPartners: Int
    /// A cell of a count indicator whose value is below this is withheld.
    public var minCount: Double
    /// A cell whose largest partner contributes more than this share of its total is withheld.
    public var dominance: Double
    /// The protection interval, relative: no withheld value, and no partner's figure, may be
    /// narrowed by the published numbers to less than this fraction of itself on either side.
    public var protectionPercent: Double
    /// The protection interval, absolute: at least this many units on either side.
    public var protectionMinimum: Double

    public init(
        minPartners: Int = 3, minCount: Double = 5, dominance: Double = 0.85, protectionPercent: Double = 10,
        protectionMinimum: Double = 2
    ) {
        self.minPartners = minPartners
        self.minCount = minCount
        self.dominance = dominance
        self.protectionPercent = protectionPercent
        self.protectionMinimum = protectionMinimum
    }

    /// How far on either side of `value` an attacker's interval must reach.
    public func margin(_ value: Double) -> Double {
        Swift.max(abs(value) * protectionPercent / 100, protectionMinimum)
    }
}
