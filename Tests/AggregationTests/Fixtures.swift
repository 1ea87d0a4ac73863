import Aggregation

/// Shared test data: a small city and shorthand for partials.
enum Fixtures {
    /// city (10,000) → north (4,000): northside (1,500), riverside (2,500)
    ///              → south (6,000): southside (population unknown)
    static let tree = NeighborhoodTree(
        parents: [
            "city": nil, "north": "city", "south": "city", "northside": "north", "riverside": "north",
            "southside": "south",
        ],
        populations: [
            "city": 10_000, "north": 4_000, "south": 6_000, "northside": 1_500, "riverside": 2_500, "southside": nil,
        ]
    )

    static func period(_ text: String) -> Period { Period(text)! }

    /// A raw measurement of a non-ratio indicator.
    static func raw(
        _ partner: String, _ neighborhood: String, _ period: String, _ value: Double,
        _ dimensions: [String: String] = [:]
    ) -> Partial {
        .measurement(
            partner: partner, neighborhood: neighborhood, period: Period(period)!, dimensions: dimensions, value: value)
    }

    /// A raw measurement of a percent indicator.
    static func percent(
        _ partner: String, _ neighborhood: String, _ period: String, _ numerator: Double, _ denominator: Double
    ) -> Partial {
        .ratioMeasurement(
            partner: partner, neighborhood: neighborhood, period: Period(period)!, dimensions: [:],
            numerator: numerator, denominator: denominator, scale: 100)
    }

    static func profile(_ method: AggregationMethod, scale: Double = 1, periodType: PeriodType = .month)
        -> IndicatorProfile
    {
        IndicatorProfile(method: method, scale: scale, periodType: periodType)
    }

    static func report(
        _ partials: [Partial], _ profile: IndicatorProfile, by groupings: [Grouping] = [],
        periodType: PeriodType? = nil, depth: Int? = nil, within: String? = nil
    ) -> Report {
        Aggregator.report(
            partials, profile: profile,
            request: ReportRequest(
                groupings: groupings, periodType: periodType, neighborhoodDepth: depth, within: within),
            tree: tree)
    }
}

extension Report {
    /// The row whose key is exactly `key`.
    func row(_ key: [String: String]) -> Cell? { rows.first { $0.key == key } }

    /// The values of the rows, in order.
    var values: [Double?] { rows.map(\.value) }
}

/// Equal up to rounding (both `nil` counts as equal).
func isClose(_ lhs: Double?, _ rhs: Double?, tolerance: Double = 1e-9) -> Bool {
    switch (lhs, rhs) {
    case (nil, nil): return true
    case (let l?, let r?): return abs(l - r) <= tolerance * max(1, abs(l), abs(r))
    default: return false
    }
}
