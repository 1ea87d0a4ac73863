import Aggregation
import DomainModel
import Foundation
import Postgres

/// Feeds the aggregation engine from storage: the indicator's profile, the neighborhood
/// tree, and the partials of a period range, read from the rollups where they suffice
/// and from raw measurements where a report needs each row (medians of a single
/// period, per-partner groups, stocks rolled into coarser periods).
public enum ReportSource {
    /// Every neighborhood with its parent and population.
    public static func tree(_ connection: Connection) throws -> NeighborhoodTree {
        var parents: [String: String?] = [:]
        var populations: [String: Int?] = [:]
        for row in try connection.query("SELECT code, parent_code, population FROM neighborhoods") {
            let (code, parent, population) = try row.decode((String, String?, Int?).self)
            parents[code] = parent
            populations[code] = population
        }
        return NeighborhoodTree(parents: parents, populations: populations)
    }

    /// Every neighborhood's parent (`nil` for a root).
    static func parents(_ connection: Connection) throws -> [String: String?] {
        var parents: [String: String?] = [:]
        for row in try connection.query("SELECT code, parent_code FROM neighborhoods") {
            let (code, parent) = try row.decode((String, String?).self)
            parents[code] = parent
        }
        return parents
    }

    /// The first and the latest period with data, read from the rollups' primary key.
    public static func periodBounds(_ connection: Connection, indicator: String) throws -> (
        first: Period?, latest: Period?
    ) {
        let rows = try connection.query(
            """
            SELECT (SELECT period FROM measurement_rollups WHERE indicator_code = \(indicator) ORDER BY period_start LIMIT 1),
                   (SELECT period FROM measurement_rollups WHERE indicator_code = \(indicator) ORDER BY period_start DESC LIMIT 1)
            """)
        let (first, latest) = try rows[0].decode((String?, String?).self)
        return (first.flatMap(Period.init), latest.flatMap(Period.init))
    }

    /// Every partner's number.
    public static func partnerNumbering(_ connection: Connection) throws -> PartnerNumbering {
        let rows = try connection.query("SELECT number, id FROM partners")
        return PartnerNumbering(try rows.map { try $0.decode((Int, String).self) }.map { (number: $0.0, id: $0.1) })
    }

    /// The database's partner numbers, read once per report, and again only when a rollup
    /// names a partner created since.
    public final class PartnerDirectory {
        private var numbering: PartnerNumbering?

        /// A directory that starts from `numbering` (remembered from an earlier report).
        public init(numbering: PartnerNumbering? = nil) {
            self.numbering = numbering
        }

        /// The partners of a rollup's `partner_list` ("12,3,57"), in column `column` of `row`.
        func partners(listedIn row: Row, at column: Int, _ connection: Connection) throws -> PartnerSet {
            guard let numbers = try row.withBytes(at: column, Self.numbers) ?? nil else {
                let list = try row.decode(String?.self, at: column) ?? "NULL"
                throw DomainError.storedData(
                    column: "measurement_rollups.partner_list",
                    "holds \(list.prefix(40).debugDescription), which is not a list of partner numbers")
            }
            return try partners(numbers, connection)
        }

        private func partners(_ numbers: [Int], _ connection: Connection) throws -> PartnerSet {
            if let known = numbering?.set(numbers) { return known }
            let numbering = try ReportSource.partnerNumbering(connection)
            self.numbering = numbering
            guard let set = numbering.set(numbers) else {
                throw DomainError.storedData(
                    column: "measurement_rollups.partner_list",
                    "names partner numbers \(numbers.prefix(20)) that no partner has")
            }
            return set
        }

        /// Comma-separated decimal numbers; nil for anything else.
        static func numbers(_ list: some Collection<UInt8>) -> [Int]? {
            var numbers: [Int] = []
            var value = 0
            var digits = 0
            for byte in list {
                if byte == UInt8(ascii: ",") {
                    guard digits > 0 else { return nil }
                    numbers.append(value)
                    (value, digits) = (0, 0)
                } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 {
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                    digits += 1
                } else {
                    return nil
                }
            }
            guard digits > 0 else { return nil }
            numbers.append(value)
            return numbers
        }
    }

    /// Reads rows shaped like a rollup (neighborhood, period, dimensions, partner list, count,
    /// sum, sum of numerators, sum of denominators, min, max) as partials. A report reads
    /// thousands of them over a few dozen periods and dimension values: each spelling is
    /// parsed once. A stored period or dimension object that does not parse is an error,
    /// never a row quietly left out.
    struct RollupRows {
        let directory: PartnerDirectory
        /// The table the rows come from, to name in errors.
        let table: String
        private var periods: [String: Period] = [:]
        private var dimensionSets: [String: [String: String]] = [:]

        init(directory: PartnerDirectory, table: String = "measurement_rollups") {
            self.directory = directory
            self.table = table
        }

        mutating func period(_ text: String) throws -> Period {
            if let known = periods[text] { return known }
            guard let parsed = Period(text) else {
                throw DomainError.storedData(
                    column: "\(table).period", "holds \(text.debugDescription), which is not a period")
            }
            periods[text] = parsed
            return parsed
        }

        mutating func dimensions(_ text: String) throws -> [String: String] {
            if let known = dimensionSets[text] { return known }
            let parsed = try ReportSource.dimensions(text)
            dimensionSets[text] = parsed
            return parsed
        }

        mutating func partials(_ rows: QueryResult, _ connection: Connection) throws -> [Partial] {
            try rows.map { row in
                let (neighborhood, periodText, dimensionText) = try row.decode((String, String, String).self)
                return Partial(
                    neighborhood: neighborhood, period: try period(periodText),
                    dimensions: try dimensions(dimensionText), partner: nil,
                    partners: try directory.partners(listedIn: row, at: 3, connection), count: try row.decode(at: 4),
                    sum: try row.decode(at: 5), sumNumerator: try row.decode(at: 6),
                    sumDenominator: try row.decode(at: 7),
                    min: try row.decode(at: 8), max: try row.decode(at: 9), values: nil)
            }
        }
    }

    /// Whether a report must read raw measurements instead of rollups: rollups merge partners,
    /// so they cannot group by partner, give medians, or say which series a stock's latest value
    /// belongs to once a cell spans several periods (a range, or months rolled into quarters).
    public static func needsRawRows(_ request: ReportRequest, profile: IndicatorProfile, singlePeriod: Bool) -> Bool {
        if request.groupings.contains(.partner) || singlePeriod { return true }
        guard profile.method == .last, request.groupings.contains(.period), let type = request.periodType else {
            return false
        }
        return type > profile.periodType
    }

    /// The bounds of an open range: no period starts before or after these.
    static let earliest = Day(year: 1000, month: 1, day: 1)
    static let latest = Day(year: 9999, month: 12, day: 31)

    /// Each series' latest measurement whose period starts in `[from, until)`, summed per
    /// neighborhood and dimension values: what a stock over the whole range stands on.
    ///
    /// When no series has a measurement after the range (it reaches the latest data), a
    /// series' latest in the range is its latest of all, kept in `series_latest`: a few rows
    /// per partner and neighborhood. Otherwise they are chosen among the range's measurements.
    public static func latestPerSeries(
        _ connection: Connection, indicator: Indicator, from: Day?, until: Day?,
        partners directory: PartnerDirectory = PartnerDirectory()
    ) throws -> [Partial] {
        let lower = from ?? Self.earliest
        let upper = until ?? Self.latest
        // One statement, one snapshot: the check that nothing lies after the range holds
        // for the rows it reads. No row means that either nothing lies in the range or
        // something lies after it; the range's measurements tell which.
        var rows = try connection.query(
            seriesTotals(
                of:
                    """
                    SELECT \(Self.seriesColumns) FROM series_latest
                    WHERE indicator_code = \(indicator.code) AND period_start >= \(lower) AND period_start < \(upper)
                      AND NOT EXISTS (SELECT FROM series_latest WHERE indicator_code = \(indicator.code) AND period_start >= \(upper))
                    """))
        if rows.isEmpty {
            rows = try connection.query(
                seriesTotals(
                    of:
                        """
                        SELECT DISTINCT ON (partner_id, neighborhood_code, dimension_key) \(Self.seriesColumns)
                        FROM measurements
                        WHERE indicator_code = \(indicator.code) AND period_start >= \(lower) AND period_start < \(upper)
                        ORDER BY partner_id, neighborhood_code, dimension_key, period_start DESC
                        """))
        }
        var reader = RollupRows(directory: directory)
        return try reader.partials(rows, connection)
    }

    /// What ``seriesTotals(of:)`` reads of each series' latest measurement; only these, since
    /// the `DISTINCT ON` sorts whatever it selects (whole rows made it a third slower).
    private static let seriesColumns: Query =
        "partner_id, neighborhood_code, dimension_key, dimensions, period, value, numerator, denominator"

    /// `series`' rows (one per series: partner, neighborhood, dimension values) summed per
    /// neighborhood and dimension values. Each partner has one series per group, so its
    /// number is listed once.
    private static func seriesTotals(of series: Query) -> Query {
        """
        SELECT latest.neighborhood_code, max(latest.period), min(latest.dimensions::text),
               string_agg(p.number::text, ','), count(*), coalesce(sum(latest.value), 0),
               coalesce(sum(latest.numerator), 0), coalesce(sum(latest.denominator), 0),
               coalesce(min(latest.value), 0), coalesce(max(latest.value), 0)
        FROM (\(series)) latest JOIN partners p ON p.id = latest.partner_id
        GROUP BY latest.neighborhood_code, latest.dimension_key
        """
    }

    /// A stored dimension object (`{"age_group": "25-44"}`), strictly.
    static func dimensions(_ text: String) throws -> [String: String] {
        try DimensionValues.parse(text)
    }

    /// The partials of `indicator` whose period starts in `[from, until)`; raw ones of
    /// `onlyPartner` alone when it is given.
    public static func partials(
        _ connection: Connection, indicator: Indicator, from: Day?, until: Day?, raw: Bool,
        partners directory: PartnerDirectory = PartnerDirectory(), onlyPartner: String? = nil
    ) throws -> [Partial] {
        let lower = from ?? Self.earliest
        let upper = until ?? Self.latest
        var reader = RollupRows(directory: directory, table: raw ? "measurements" : "measurement_rollups")
        if raw {
            let rows = try connection.query(
                """
                SELECT partner_id, neighborhood_code, period, dimensions::text, value, numerator, denominator
                FROM measurements
                WHERE indicator_code = \(indicator.code) AND period_start >= \(lower) AND period_start < \(upper)
                  AND (\(onlyPartner)::text IS NULL OR partner_id = \(onlyPartner))
                """)
            return try rows.map { row in
                let (partner, neighborhood, periodText, dimensionText, value, numerator, denominator) =
                    try row.decode((String, String, String, String, Double?, Double?, Double?).self)
                let period = try reader.period(periodText)
                let dimensions = try reader.dimensions(dimensionText)
                if let numerator, let denominator {
                    return .ratioMeasurement(
                        partner: partner, neighborhood: neighborhood, period: period, dimensions: dimensions,
                        numerator: numerator, denominator: denominator, scale: indicator.profile.scale)
                }
                guard let value else {
                    throw DomainError.storedData(
                        column: "measurements.value", "is empty where neither a value nor a ratio is stored")
                }
                return .measurement(
                    partner: partner, neighborhood: neighborhood, period: period, dimensions: dimensions, value: value)
            }
        }
        let rows = try connection.query(
            """
            SELECT neighborhood_code, period, dimensions::text, partner_list, measurements,
                   sum_value, sum_numerator, sum_denominator, min_value, max_value
            FROM measurement_rollups
            WHERE indicator_code = \(indicator.code) AND period_start >= \(lower) AND period_start < \(upper)
            """)
        return try reader.partials(rows, connection)
    }
}
