import Aggregation
import Postgres

/// A series' stored values before a period: what a person compares a new value with when
/// it is flagged as an outlier (a series as in DOMAIN.md: one partner's values of one
/// indicator in one neighborhood with one set of dimension values).
public enum SeriesHistory {
    public struct Point: Sendable, Equatable {
        public var period: String
        /// The value, or for a ratio the rate (numerator / denominator).
        public var value: Double

        public init(period: String, value: Double) {
            self.period = period
            self.value = value
        }
    }

    /// The series' latest `limit` values before `period`, oldest first. Reads at most
    /// `limit` rows, through the measurements' natural key.
    public static func before(
        _ connection: Connection, period: Period, partner: String, indicator: String, neighborhood: String,
        dimensions: [String: String], limit: Int
    ) throws -> [Point] {
        let rows = try connection.query(
            """
            SELECT period, COALESCE(value, numerator / denominator) FROM measurements
            WHERE indicator_code = \(indicator) AND partner_id = \(partner) AND neighborhood_code = \(neighborhood)
                AND dimension_key = \(DimensionValues.key(dimensions)) AND period_start < \(period.start)
            ORDER BY period_start DESC LIMIT \(limit)
            """)
        return try rows.map { row in
            let (period, value) = try row.decode((String, Double).self)
            return Point(period: period, value: value)
        }.reversed()
    }
}
