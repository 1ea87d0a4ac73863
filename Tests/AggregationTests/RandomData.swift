import Aggregation
import PropertyBased

/// One random raw measurement, as small integers so sums are exact.
struct RawRow: Sendable, CustomStringConvertible {
    var partner: Int
    var neighborhood: Int
    var month: Int
    var group: Int
    var numerator: Int
    var denominator: Int

    static let neighborhoods = ["northside", "riverside", "southside"]
    static let groups = ["young", "old"]

    var description: String {
        "p\(partner) \(Self.neighborhoods[neighborhood]) 2026-\(month) \(Self.groups[group]) \(numerator)/\(denominator)"
    }

    /// The measurement under `method`: ratio rows as percentages of numerator over denominator, others as the numerator.
    func partial(for method: AggregationMethod) -> Partial {
        let period = Period(type: .month, year: 2026, index: month)!
        let dimensions = ["age_group": Self.groups[group]]
        let neighborhood = Self.neighborhoods[self.neighborhood]
        return method == .ratio
            ? .ratioMeasurement(
                partner: "p\(partner)", neighborhood: neighborhood, period: period, dimensions: dimensions,
                numerator: Double(numerator), denominator: Double(denominator), scale: 100)
            : .measurement(
                partner: "p\(partner)", neighborhood: neighborhood, period: period, dimensions: dimensions,
                value: Double(numerator))
    }
}

enum RandomData {
    /// 1–40 measurements from 5 partners, 3 neighborhoods, 6 months (two quarters), 2 age groups.
    static let rows = zip(
        Gen.int(in: 0...4), Gen.int(in: 0...2), Gen.int(in: 1...6), Gen.int(in: 0...1), Gen.int(in: 0...50),
        Gen.int(in: 1...20)
    )
    .map { RawRow(partner: $0.0, neighborhood: $0.1, month: $0.2, group: $0.3, numerator: $0.4, denominator: $0.5) }
    .array(of: 1...40)

    /// The methods whose partials can be pre-aggregated without losing anything.
    static let mergeableMethods: [AggregationMethod] = [.sum, .mean, .ratio, .min, .max]

    static func profile(_ method: AggregationMethod) -> IndicatorProfile {
        IndicatorProfile(method: method, scale: method == .ratio ? 100 : 1, isCount: method == .sum, periodType: .month)
    }

    /// What a single merged partial amounts to under a method that needs no series (all but `last`).
    static func value(of merged: Partial, method: AggregationMethod, scale: Double) -> Double? {
        switch method {
        case .sum: return merged.sum
        case .mean: return merged.sum / Double(merged.count)
        case .ratio: return merged.sumDenominator == 0 ? nil : merged.sumNumerator / merged.sumDenominator * scale
        case .min: return merged.min
        case .max: return merged.max
        case .last: return nil
        }
    }

    /// Merges each group of partials into one.
    static func merged<Key: Hashable>(_ partials: [Partial], by key: (Partial) -> Key) -> [Key: Partial] {
        Dictionary(grouping: partials, by: key).mapValues { $0.dropFirst().reduce($0[0]) { $0.merging($1) } }
    }
}
