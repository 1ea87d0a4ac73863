/// What a report combines: one raw measurement, or a pre-aggregated rollup of several.
///
/// A partial keeps enough to combine correctly under every method: counts, sums, the
/// numerator and denominator sums of ratio indicators, the extremes and, when known, the
/// underlying values themselves (for the median). The "underlying value" is the value of a
/// non-ratio measurement, or numerator / denominator × scale for a ratio one.
public struct Partial: Sendable, Hashable {
    /// The neighborhood code the measurement was reported for.
    public var neighborhood: String
    /// The indicator's native period.
    public var period: Period
    /// Dimension name → value; `[:]` if the indicator has none.
    public var dimensions: [String: String]
    /// The reporting partner of a raw measurement; `nil` for a rollup over partners.
    public var partner: String?
    /// The distinct partners behind it.
    public var partners: PartnerSet
    /// How many measurements are behind it.
    public var count: Int
    /// The sum of the underlying values.
    public var sum: Double
    /// The sum of numerators (ratio indicators; 0 otherwise).
    public var sumNumerator: Double
    /// The sum of denominators (ratio indicators; 0 otherwise).
    public var sumDenominator: Double
    /// The smallest underlying value.
    public var min: Double
    /// The largest underlying value.
    public var max: Double
    /// The underlying values when known (raw rows), for the median; `nil` for rollups that dropped them.
    public var values: [Double]?

    /// Every field spelled out; prefer ``measurement(partner:neighborhood:period:dimensions:value:)``
    /// and ``merge(_:)`` to build rollups.
    public init(
        neighborhood: String, period: Period, dimensions: [String: String] = [:], partner: String?,
        partners: PartnerSet, count: Int, sum: Double, sumNumerator: Double = 0, sumDenominator: Double = 0,
        min: Double, max: Double, values: [Double]?
    ) {
        self.neighborhood = neighborhood
        self.period = period
        self.dimensions = dimensions
        self.partner = partner
        self.partners = partners
        self.count = count
        self.sum = sum
        self.sumNumerator = sumNumerator
        self.sumDenominator = sumDenominator
        self.min = min
        self.max = max
        self.values = values
    }

    /// One raw measurement of a non-ratio indicator.
    public static func measurement(
        partner: String, neighborhood: String, period: Period, dimensions: [String: String], value: Double
    ) -> Partial {
        Partial(
            neighborhood: neighborhood, period: period, dimensions: dimensions, partner: partner,
            partners: [partner], count: 1, sum: value, min: value, max: value, values: [value]
        )
    }

    /// One raw measurement of a ratio indicator; its underlying value is numerator / denominator × scale
    /// (0 when the denominator is 0, which validation should have refused).
    public static func ratioMeasurement(
        partner: String, neighborhood: String, period: Period, dimensions: [String: String],
        numerator: Double, denominator: Double, scale: Double
    ) -> Partial {
        var partial = measurement(
            partner: partner, neighborhood: neighborhood, period: period, dimensions: dimensions,
            value: denominator == 0 ? 0 : numerator / denominator * scale
        )
        partial.sumNumerator = numerator
        partial.sumDenominator = denominator
        return partial
    }

    /// Folds `other` into this partial. Associative and commutative in every statistic: keeps
    /// `partner` only if both name the same one, unions `partners`, and concatenates `values`
    /// (`nil` if either side's is). Neighborhood, period and dimensions stay the receiver's:
    /// merge partials that share them.
    public mutating func merge(_ other: Partial) {
        partner = partner == other.partner ? partner : nil
        partners.formUnion(other.partners)
        count += other.count
        sum += other.sum
        sumNumerator += other.sumNumerator
        sumDenominator += other.sumDenominator
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        // Appended in place (binding `values` first and assigning `mine + theirs` copied it at
        // every merge: quadratic in a group's rows).
        if let theirs = other.values { values?.append(contentsOf: theirs) } else { values = nil }
    }

    /// This partial with `other` folded in.
    public func merging(_ other: Partial) -> Partial {
        var copy = self
        copy.merge(other)
        return copy
    }
}
