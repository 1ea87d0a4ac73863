import Aggregation
import DataQuality
import DomainModel
import Postgres

/// Evaluates validation rules in the cells (partner, neighborhood, period) a batch writes,
/// over the stored values with the batch's rows laid over them, or over stored values alone.
struct RuleCheck {
    /// One partner's values for one neighborhood and period: where a rule is evaluated.
    struct CellKey: Hashable {
        var partner: String
        var neighborhood: String
        var period: String
    }

    /// What one rule found in one cell.
    struct Finding {
        var rule: ValidationRule
        var cell: CellKey
        var outcome: RuleOutcome
        /// The batch rows in the cell that the rule reads.
        var rows: [ValidRow]

        var message: String? {
            guard case .violated(let left, let right) = outcome else { return nil }
            return "\(rule.name): " + rule.message(left: left, right: right)
        }
    }

    /// The stored rows of `cells` for the indicators of `rules`, by cell and then by
    /// indicator and dimension key.
    typealias CellRows = [CellKey: [String: RuleCell.Row]]

    /// Each active rule reading one of the batch's indicators, in each cell where the batch
    /// writes one of its indicators.
    static func findings(_ connection: Connection, rows: [ValidRow], rules: [ValidationRule]) throws -> [Finding] {
        guard !rules.isEmpty else { return [] }
        let read = Set(rules.flatMap(\.indicators))
        var batchRows: [CellKey: [Int]] = [:]
        for (index, row) in rows.enumerated() where read.contains(row.indicator) {
            batchRows[
                CellKey(partner: row.partner, neighborhood: row.neighborhood, period: row.period.description),
                default: []
            ]
            .append(index)
        }
        guard !batchRows.isEmpty else { return [] }
        var cells = try storedRows(connection, cells: Array(batchRows.keys), indicators: read)
        for (cell, indices) in batchRows {
            for index in indices {
                let row = rows[index]
                cells[cell, default: [:]][row.indicator + "\u{0}" + row.dimensionKey] = try cellRow(
                    indicator: row.indicator, dimensionKey: row.dimensionKey, value: row.value,
                    numerator: row.numerator, denominator: row.denominator)
            }
        }
        let combinations = try combinations(connection, of: read)
        var found: [Finding] = []
        for (cell, indices) in batchRows {
            let cellRows = RuleCell(rows: Array(cells[cell, default: [:]].values), combinations: combinations)
            for rule in rules {
                let reading = indices.filter { rule.indicators.contains(rows[$0].indicator) }
                guard !reading.isEmpty else { continue }
                found.append(
                    Finding(
                        rule: rule, cell: cell, outcome: rule.evaluate(in: cellRows), rows: reading.map { rows[$0] }))
            }
        }
        return found
    }

    /// `rule` in `cells`, over their stored values: the re-evaluation after a retraction.
    /// Each cell is evaluated even when empty now (a retraction may have emptied it).
    static func findings(_ connection: Connection, rule: ValidationRule, in cells: [CellKey]) throws -> [Finding] {
        try evaluate(
            rule, in: cells, stored: try storedRows(connection, cells: cells, indicators: rule.indicators), connection)
    }

    /// `rule` in every cell with stored values of its indicators in periods starting in
    /// `range`: the sweep behind `POST /v1/rules/{id}/evaluate`.
    static func findings(_ connection: Connection, rule: ValidationRule, startingIn range: ClosedRange<Day>) throws
        -> [Finding]
    {
        let stored = try storedRows(connection, indicators: rule.indicators, starting: range)
        return try evaluate(rule, in: Array(stored.keys), stored: stored, connection)
    }

    private static func evaluate(
        _ rule: ValidationRule, in cells: [CellKey], stored: CellRows, _ connection: Connection
    )
        throws -> [Finding]
    {
        let combinations = try combinations(connection, of: rule.indicators)
        return cells.map { cell in
            let rows = RuleCell(rows: Array(stored[cell, default: [:]].values), combinations: combinations)
            return Finding(rule: rule, cell: cell, outcome: rule.evaluate(in: rows), rows: [])
        }
    }

    private static func storedRows(_ connection: Connection, cells: [CellKey], indicators: Set<String>) throws
        -> CellRows
    {
        let result = try connection.query(
            """
            SELECT c.ord, m.indicator_code, m.dimension_key, m.value, m.numerator, m.denominator
            FROM unnest(\(cells.map(\.partner))::text[], \(cells.map(\.neighborhood))::text[], \(cells.map(\.period))::text[])
                 WITH ORDINALITY AS c(partner, neighborhood, period, ord)
            JOIN measurements m ON m.indicator_code = ANY(\(Array(indicators))::text[]) AND m.partner_id = c.partner
                 AND m.neighborhood_code = c.neighborhood AND m.period = c.period
            """)
        var rows: CellRows = [:]
        for row in result {
            let (ordinal, indicator, dimensionKey, value, numerator, denominator) =
                try row.decode((Int, String, String, Double?, Double?, Double?).self)
            rows[cells[ordinal - 1], default: [:]][indicator + "\u{0}" + dimensionKey] = try cellRow(
                indicator: indicator, dimensionKey: dimensionKey, value: value, numerator: numerator,
                denominator: denominator)
        }
        return rows
    }

    private static func storedRows(
        _ connection: Connection, indicators: Set<String>, starting range: ClosedRange<Day>
    ) throws -> CellRows {
        let result = try connection.query(
            """
            SELECT m.partner_id, m.neighborhood_code, m.period, m.indicator_code, m.dimension_key,
                   m.value, m.numerator, m.denominator
            FROM measurements m WHERE m.indicator_code = ANY(\(Array(indicators))::text[])
              AND m.period_start BETWEEN \(range.lowerBound) AND \(range.upperBound)
            """)
        var rows: CellRows = [:]
        for row in result {
            let (partner, neighborhood, period, indicator, dimensionKey, value, numerator, denominator) =
                try row.decode((String, String, String, String, String, Double?, Double?, Double?).self)
            rows[CellKey(partner: partner, neighborhood: neighborhood, period: period), default: [:]][
                indicator + "\u{0}" + dimensionKey] = try cellRow(
                    indicator: indicator, dimensionKey: dimensionKey, value: value, numerator: numerator,
                    denominator: denominator)
        }
        return rows
    }

    private static func cellRow(
        indicator: String, dimensionKey: String, value: Double?, numerator: Double?, denominator: Double?
    ) throws -> RuleCell.Row {
        let dimensions = try DimensionValues.parse(dimensionKey)
        if let value { return RuleCell.Row(indicator: indicator, dimensions: dimensions, value: value) }
        return RuleCell.Row(
            indicator: indicator, dimensions: dimensions, numerator: numerator ?? 0, denominator: denominator ?? 1)
    }

    /// How each indicator's values combine in a cell.
    private static func combinations(_ connection: Connection, of codes: Set<String>) throws
        -> [String: RuleCell.Combination]
    {
        var combinations: [String: RuleCell.Combination] = [:]
        for indicator in try IndicatorStore.list(connection, codes: Array(codes)) {
            combinations[indicator.code] = RuleCell.Combination(indicator)
        }
        return combinations
    }
}
