import Aggregation
import DomainModel
import Postgres

/// The standing data-quality flags behind each cell of a coordinator's report.
enum OpenFlags {
    /// Sets `openFlags` on every row and the total: each standing flag in the range counts in
    /// the cells its measurement counts in, grouped exactly as the report groups measurements
    /// (the flags go through the same aggregator, one count per flag).
    static func count(
        _ connection: Connection, on report: Report, indicator: Indicator, request: ReportRequest,
        range: Reports.PeriodRange, tree: NeighborhoodTree
    ) throws -> Report {
        // Only what the report groups by is read: the flags' partners when it lists partners,
        // their measurements' dimension values when it groups by a dimension. Otherwise the
        // flags of a cell are one row, and no measurement is looked up: at 10M rows with
        // 3,351 standing flags on one indicator, reading each flag with its measurement's
        // dimensions was half of the 24-month report's time.
        let byPartner = request.groupings.contains(.partner)
        let byDimension = request.groupings.contains { if case .dimension = $0 { true } else { false } }
        let rows = try connection.query(
            """
            SELECT \(byPartner ? "f.partner_id" as Query : "''"), f.neighborhood_code, f.period,
                   \(byDimension ? "coalesce(m.dimensions::text, '')" as Query : "''"), count(*)
            FROM quality_flags f \(byDimension ? "LEFT JOIN measurements m ON m.id = f.measurement_id" as Query : "")
            WHERE f.indicator_code = \(indicator.code) AND f.status IN ('open', 'explained')
              AND f.period_start >= \(range.start ?? ReportSource.earliest) AND f.period_start < \(range.until ?? ReportSource.latest)
            GROUP BY 1, 2, 3, 4
            """)
        var flags: [Partial] = []
        var periods: [String: Period] = [:]
        var dimensionValues: [String: [String: String]] = [:]
        for row in rows {
            let (partner, neighborhood, periodText, dimensionText, count) =
                try row.decode((String, String, String, String, Int).self)
            guard let period = periods[periodText] ?? Period(periodText) else {
                throw DomainError.storedData(column: "quality_flags.period", "holds \(periodText.debugDescription)")
            }
            periods[periodText] = period
            let dimensions = try dimensionValues[dimensionText] ?? DimensionValues.parse(dimensionText)
            dimensionValues[dimensionText] = dimensions
            var partial = Partial.measurement(
                partner: partner, neighborhood: neighborhood, period: period, dimensions: dimensions,
                value: Double(count))
            partial.count = count
            flags.append(partial)
        }
        let counted = Aggregator.report(
            flags, profile: IndicatorProfile(method: .sum, periodType: indicator.profile.periodType), request: request,
            tree: tree)
        let byKey = Dictionary(counted.rows.map { ($0.key, $0.measurements) }, uniquingKeysWith: +)
        var report = report
        for index in report.rows.indices {
            report.rows[index].openFlags = byKey[report.rows[index].key] ?? 0
        }
        report.total.openFlags = counted.total.measurements
        return report
    }

    /// Standing flags per indicator of `agenda`, any period (the scorecard's `open_flags`).
    static func byIndicator(_ connection: Connection, agenda: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try connection.query(
            """
            SELECT f.indicator_code, count(*) FROM quality_flags f JOIN indicators i ON i.code = f.indicator_code
            WHERE i.agenda_id = \(agenda) AND f.status IN ('open', 'explained') GROUP BY 1
            """)
        {
            let (code, count) = try row.decode((String, Int).self)
            counts[code] = count
        }
        return counts
    }
}
