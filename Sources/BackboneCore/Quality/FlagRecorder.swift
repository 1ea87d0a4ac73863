import Aggregation
import DataQuality
import Foundation
import Postgres

/// Keeps flags in step with what the checks found on stored values, in the transaction
/// that wrote them: a finding opens a flag unless one stands already or the coordinator
/// confirmed one since the values last changed; a value or cell found fine again closes its
/// standing flags as `corrected`.
enum FlagRecorder {
    static let corrected = "the corrected values no longer violate it"

    /// After a batch is written: its outliers and rule findings.
    static func record(
        _ connection: Connection, _ check: DoorCheck, rows: [ValidRow], batchID: UUID, keyID: String, updatedAny: Bool
    ) throws {
        if !check.outliers.isEmpty { try openOutlierFlags(connection, check.outliers, keyID: keyID) }
        if updatedAny {
            let flagged = Set(check.outliers.map(\.row.row))
            try closeOutlierFlags(connection, rows.filter { !flagged.contains($0.row) }, batchID: batchID)
        }
        if !check.rules.isEmpty { try record(connection, ruleFindings: check.rules, keyID: keyID) }
    }

    private static func openOutlierFlags(_ connection: Connection, _ found: [OutlierCheck.Finding], keyID: String)
        throws
    {
        let rows = found.map(\.row)
        let changed = try connection.query(
            """
            WITH found AS (
                SELECT m.id, m.partner_id, m.indicator_code, m.neighborhood_code, m.period, m.period_start, m.updated_at,
                       f.score, f.low, f.high, f.message
                FROM unnest(\(rows.map(\.partner))::text[], \(rows.map(\.indicator))::text[],
                            \(rows.map(\.neighborhood))::text[], \(rows.map(\.period.description))::text[],
                            \(rows.map(\.dimensionKey))::text[], \(found.map(\.score))::float8[],
                            \(found.map(\.expected.lowerBound))::float8[], \(found.map(\.expected.upperBound))::float8[],
                            \(found.map(\.message))::text[])
                     AS f(partner, indicator, neighborhood, period, dimension_key, score, low, high, message)
                JOIN measurements m ON m.indicator_code = f.indicator AND m.partner_id = f.partner
                     AND m.neighborhood_code = f.neighborhood AND m.period = f.period AND m.dimension_key = f.dimension_key
                WHERE NOT EXISTS (
                    SELECT 1 FROM quality_flags c WHERE c.measurement_id = m.id AND c.kind = 'outlier'
                    AND c.status = 'confirmed' AND c.updated_at >= m.updated_at)
            ),
            opened AS (
                INSERT INTO quality_flags (measurement_id, partner_id, indicator_code, neighborhood_code, period,
                                           period_start, kind, score, expected_low, expected_high, message)
                SELECT id, partner_id, indicator_code, neighborhood_code, period, period_start, 'outlier', score, low, high,
                       message
                FROM found
                ON CONFLICT (measurement_id) WHERE kind = 'outlier' AND status IN ('open', 'explained')
                DO UPDATE SET score = EXCLUDED.score, expected_low = EXCLUDED.expected_low,
                              expected_high = EXCLUDED.expected_high, message = EXCLUDED.message
                RETURNING id, (xmax = 0) AS inserted
            )
            INSERT INTO quality_flag_history (flag_id, status, key_id)
            SELECT id, 'open', \(keyID) FROM opened WHERE inserted
            RETURNING flag_id
            """)
        try ChangeEvents.flags(connection, ids: try changed.map { try $0.decode(Int.self) }, .flagOpened)
    }

    /// Closes the standing outlier flags of the values of `rows` this batch changed and found fine.
    private static func closeOutlierFlags(_ connection: Connection, _ rows: [ValidRow], batchID: UUID) throws {
        let changed = try connection.query(
            """
            WITH closed AS (
                UPDATE quality_flags f SET status = 'corrected', updated_at = now()
                FROM unnest(\(rows.map(\.partner))::text[], \(rows.map(\.indicator))::text[],
                            \(rows.map(\.neighborhood))::text[], \(rows.map(\.period.description))::text[],
                            \(rows.map(\.dimensionKey))::text[])
                     AS r(partner, indicator, neighborhood, period, dimension_key)
                JOIN measurements m ON m.indicator_code = r.indicator AND m.partner_id = r.partner
                     AND m.neighborhood_code = r.neighborhood AND m.period = r.period AND m.dimension_key = r.dimension_key
                WHERE m.batch_id = \(batchID) AND f.measurement_id = m.id AND f.kind = 'outlier'
                  AND f.status IN ('open', 'explained')
                RETURNING f.id
            )
            INSERT INTO quality_flag_history (flag_id, status, note)
            SELECT id, 'corrected', 'the corrected value is within its history' FROM closed
            RETURNING flag_id
            """)
        try ChangeEvents.flags(connection, ids: try changed.map { try $0.decode(Int.self) }, .flagClosed)
    }

    /// Rule findings, from a batch or a sweep over stored values: a violation opens a flag on
    /// the cell's first measurement the rule reads; a cell found fine closes the rule's standing flag.
    static func record(_ connection: Connection, ruleFindings findings: [RuleCheck.Finding], keyID: String?) throws {
        let violated = findings.filter { $0.message != nil }
        let fine = findings.filter { $0.message == nil }
        if !violated.isEmpty {
            let changed = try connection.query(
                """
                WITH found AS (
                    SELECT f.rule, f.partner, f.neighborhood, f.period, f.message, cell.id, cell.indicator_code,
                           cell.period_start
                    FROM unnest(\(violated.map(\.rule.id))::text[], \(violated.map(\.cell.partner))::text[],
                                \(violated.map(\.cell.neighborhood))::text[], \(violated.map(\.cell.period))::text[],
                                \(violated.map { $0.message ?? "" })::text[])
                         AS f(rule, partner, neighborhood, period, message)
                    JOIN validation_rules r ON r.id = f.rule
                    CROSS JOIN LATERAL (
                        SELECT min(m.id) AS id, max(m.updated_at) AS changed, min(m.period_start) AS period_start,
                               (array_agg(m.indicator_code ORDER BY m.id))[1] AS indicator_code
                        FROM measurements m
                        WHERE m.indicator_code = ANY(r.indicator_codes) AND m.partner_id = f.partner
                          AND m.neighborhood_code = f.neighborhood AND m.period = f.period
                    ) cell
                    WHERE cell.id IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM quality_flags c
                        WHERE c.kind = 'rule' AND c.rule_id = f.rule AND c.partner_id = f.partner
                          AND c.neighborhood_code = f.neighborhood AND c.period = f.period
                          AND c.status = 'confirmed' AND c.updated_at >= cell.changed)
                ),
                opened AS (
                    INSERT INTO quality_flags (measurement_id, partner_id, indicator_code, neighborhood_code, period,
                                               period_start, kind, rule_id, message)
                    SELECT id, partner, indicator_code, neighborhood, period, period_start, 'rule', rule, message FROM found
                    ON CONFLICT (rule_id, partner_id, neighborhood_code, period)
                        WHERE kind = 'rule' AND status IN ('open', 'explained')
                    DO UPDATE SET message = EXCLUDED.message
                    RETURNING id, (xmax = 0) AS inserted
                )
                INSERT INTO quality_flag_history (flag_id, status, key_id)
                SELECT id, 'open', \(keyID) FROM opened WHERE inserted
                RETURNING flag_id
                """)
            try ChangeEvents.flags(connection, ids: try changed.map { try $0.decode(Int.self) }, .flagOpened)
        }
        if !fine.isEmpty {
            let changed = try connection.query(
                """
                WITH closed AS (
                    UPDATE quality_flags f SET status = 'corrected', updated_at = now()
                    FROM unnest(\(fine.map(\.rule.id))::text[], \(fine.map(\.cell.partner))::text[],
                                \(fine.map(\.cell.neighborhood))::text[], \(fine.map(\.cell.period))::text[])
                         AS h(rule, partner, neighborhood, period)
                    WHERE f.kind = 'rule' AND f.rule_id = h.rule AND f.partner_id = h.partner
                      AND f.neighborhood_code = h.neighborhood AND f.period = h.period
                      AND f.status IN ('open', 'explained')
                    RETURNING f.id
                )
                INSERT INTO quality_flag_history (flag_id, status, note)
                SELECT id, 'corrected', \(Self.corrected) FROM closed
                RETURNING flag_id
                """)
            try ChangeEvents.flags(connection, ids: try changed.map { try $0.decode(Int.self) }, .flagClosed)
        }
    }

    /// After a retraction: the value's own flags close, and the rules reading its indicator
    /// are evaluated again in its cell.
    static func retracted(
        _ connection: Connection, measurementID: Int, indicator: String, cell: RuleCheck.CellKey, keyID: String
    ) throws {
        let changed = try connection.query(
            """
            WITH closed AS (
                UPDATE quality_flags SET status = 'corrected', updated_at = now()
                WHERE measurement_id = \(measurementID) AND kind = 'outlier' AND status IN ('open', 'explained')
                RETURNING id
            )
            INSERT INTO quality_flag_history (flag_id, status, note, key_id)
            SELECT id, 'corrected', 'the value was retracted', \(keyID) FROM closed
            RETURNING flag_id
            """)
        try ChangeEvents.flags(connection, ids: try changed.map { try $0.decode(Int.self) }, .flagClosed)
        for rule in try RuleStore.activeRules(connection, readingAny: [indicator]) {
            try record(
                connection, ruleFindings: try RuleCheck.findings(connection, rule: rule, in: [cell]), keyID: keyID)
        }
    }
}
