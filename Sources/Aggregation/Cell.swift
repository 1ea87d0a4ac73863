/// One row of a report (or its total): a group's value and what stands behind it.
public struct Cell: Sendable, Hashable {
    /// Grouping name → group value: `"neighborhood": "northside"`, `"period": "2026-Q3"`,
    /// `"dimension:age_group": "25-44"`; `[:]` for the total.
    public var key: [String: String]
    /// The group's value under the indicator's method; `nil` when undefined (a ratio over a zero denominator) or suppressed.
    public var value: Double?
    /// How many measurements stand behind it.
    public var measurements: Int
    /// How many distinct partners stand behind it.
    public var partners: Int
    /// Which partners stand behind it (for the coordinator; not for the wire of a suppressed report).
    public var partnerIDs: PartnerSet
    /// The smallest underlying value.
    public var min: Double?
    /// The largest underlying value.
    public var max: Double?
    /// The mean of the underlying values.
    public var mean: Double?
    /// The median of the underlying values; `nil` when some rollup behind it no longer knows its values.
    public var median: Double?
    /// The value per 1,000 residents, for sum and last indicators grouped by a neighborhood with a population.
    public var per1000: Double?
    /// The indicator's baseline value.
    public var baseline: Double?
    /// The indicator's target value.
    public var target: Double?
    /// (value − baseline) / (target − baseline): 0 at the baseline, 1 at the target, in either direction.
    public var progress: Double?
    /// The value minus that of the same group in the previous period (reports grouped by period only).
    public var change: Double?
    /// Whether the numbers are withheld (from a partner or viewer; no reason is given, as a
    /// reason is a bound on the value).
    public var suppressed: Bool
    /// In a report rolled up to a tree `level`: whether this row holds the measurements reported
    /// for a neighborhood above that level (a partner serving a whole district); `nil` without a level.
    public var reportedAbove: Bool?
    /// The native periods of the measurements behind the cell.
    public var periods: Set<Period>
    /// For stocks over several periods: whether some series' latest value lies before the cell's last period.
    public var hasStaleSeries: Bool
    /// Standing data-quality flags on the measurements behind it: the coordinator's reports
    /// only (a count of flags can single out one partner); `nil` elsewhere.
    public var openFlags: Int?

    /// An empty cell for `key`.
    public init(key: [String: String] = [:]) {
        self.key = key
        self.measurements = 0
        self.partners = 0
        self.partnerIDs = []
        self.suppressed = false
        self.periods = []
        self.hasStaleSeries = false
    }
}
