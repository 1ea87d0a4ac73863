import Aggregation
import DomainModel
import Postgres

/// What a person compares an outlier with (the dashboard's upload page): the series'
/// latest stored points before the value's period, as the outlier check reads them
/// (`SeriesHistory.pointValue`: a value, or a ratio's rate), so they match its expected range.
public enum OutlierHistory {
    /// The series' latest `limit` points before `period`, oldest first; at most `limit`
    /// rows read, through the measurements' natural key.
    public static func recent(
        _ connection: Connection, indicator code: String, partner: String, neighborhood: String,
        dimensions: [String: String], before period: Period, limit: Int
    ) throws -> [(period: String, value: Double)] {
        let indicator = try RegistryStore<Indicator>().find(connection, key: code)
        let rows = try connection.query(
            """
            SELECT period, value, numerator, denominator FROM measurements
            WHERE indicator_code = \(code) AND partner_id = \(partner) AND neighborhood_code = \(neighborhood)
                AND dimension_key = \(DimensionValues.key(dimensions)) AND period_start < \(period.start)
            ORDER BY period_start DESC LIMIT \(limit)
            """)
        return try rows.compactMap { row -> (period: String, value: Double)? in
            let (period, value, numerator, denominator) = try row.decode((String, Double?, Double?, Double?).self)
            return SeriesHistory.pointValue(value: value, numerator: numerator, denominator: denominator, indicator)
                .map { (period, $0) }
        }.reversed()
    }
}
