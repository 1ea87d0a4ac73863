import Aggregation
import Foundation
import Postgres

/// What a submission did (or, in a dry run, would do).
public struct ImportSummary: Codable, Sendable, Equatable {
    /// Lowercase UUID shared by every row this submission wrote.
    public var batchID: String
    public var dryRun: Bool
    public var mode: String
    public var received: Int
    public var created: Int
    public var updated: Int
    public var unchanged: Int
    public var rejected: Int
    public var errors: [FieldIssue]

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id"
        case dryRun = "dry_run"
        case mode, received, created, updated, unchanged, rejected, errors
    }
}

/// Stores validated rows with set-based statements (arrays bound once, `unnest`ed by
/// the server), so a batch of 10,000 rows costs a handful of statements, not 10,000.
public enum MeasurementWriter {
    public struct Outcome: Sendable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0
    }

    /// Upserts `rows` by natural key and records history; with `dryRun`, only counts.
    public static func write(
        _ connection: Connection, rows: [ValidRow], batchID: UUID, keyID: String, dryRun: Bool
    ) throws -> Outcome {
        guard !rows.isEmpty else { return Outcome() }
        // Batches for the same partner wait for each other, so two uploads of the same
        // new row cannot both insert it.
        let partners = Array(Set(rows.map(\.partner))).sorted()
        try connection.query(
            "SELECT pg_advisory_xact_lock(hashtext('measurements:' || p)) FROM unnest(\(partners)::text[]) AS p ORDER BY p")

        let existing = try connection.query(
            """
            SELECT i.ord, m.id, m.value, m.numerator, m.denominator, m.note
            FROM unnest(\(rows.map(\.partner))::text[], \(rows.map(\.indicator))::text[],
                        \(rows.map(\.neighborhood))::text[], \(rows.map(\.period.description))::text[],
                        \(rows.map(\.dimensionKey))::text[])
                 WITH ORDINALITY AS i(partner, indicator, neighborhood, period, dimension_key, ord)
            JOIN measurements m ON m.indicator_code = i.indicator AND m.partner_id = i.partner
                 AND m.neighborhood_code = i.neighborhood AND m.period = i.period AND m.dimension_key = i.dimension_key
            FOR UPDATE OF m
            """)
        var stored: [Int: (id: Int, value: Double?, numerator: Double?, denominator: Double?, note: String?)] = [:]
        for row in existing {
            let (ordinal, id, value, numerator, denominator, note) = try row.decode((Int, Int, Double?, Double?, Double?, String?).self)
            stored[ordinal - 1] = (id, value, numerator, denominator, note)
        }
        var fresh: [ValidRow] = []
        var changed: [(id: Int, row: ValidRow)] = []
        var outcome = Outcome()
        for (index, row) in rows.enumerated() {
            guard let old = stored[index] else {
                fresh.append(row)
                continue
            }
            if old.value == row.value, old.numerator == row.numerator, old.denominator == row.denominator, old.note == row.note {
                outcome.unchanged += 1
            } else {
                changed.append((old.id, row))
            }
        }
        outcome.created = fresh.count
        outcome.updated = changed.count
        if dryRun { return outcome }
        if !fresh.isEmpty { try insert(connection, fresh, batchID: batchID, keyID: keyID) }
        if !changed.isEmpty { try update(connection, changed, batchID: batchID, keyID: keyID) }
        return outcome
    }

    static let snapshot = "jsonb_build_object('value', %@.value, 'numerator', %@.numerator, 'denominator', %@.denominator, 'note', %@.note)"

    static func snapshot(of alias: String) -> Query {
        Query(unsafeSQL: snapshot.replacingOccurrences(of: "%@", with: alias))
    }

    private static func insert(_ connection: Connection, _ rows: [ValidRow], batchID: UUID, keyID: String) throws {
        try connection.query(
            """
            WITH inserted AS (
                INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start,
                                          dimension_key, dimensions, value, numerator, denominator, note, batch_id, updated_by)
                SELECT partner, indicator, neighborhood, period, period_start, dimension_key,
                       CASE WHEN dimension_key = '' THEN '{}'::jsonb ELSE dimension_key::jsonb END,
                       value, numerator, denominator, note, \(batchID), \(keyID)
                FROM unnest(\(rows.map(\.partner))::text[], \(rows.map(\.indicator))::text[], \(rows.map(\.neighborhood))::text[],
                            \(rows.map(\.period.description))::text[], \(rows.map(\.period.start))::date[],
                            \(rows.map(\.dimensionKey))::text[], \(rows.map(\.value))::float8[],
                            \(rows.map(\.numerator))::float8[], \(rows.map(\.denominator))::float8[], \(rows.map(\.note))::text[])
                     AS i(partner, indicator, neighborhood, period, period_start, dimension_key, value, numerator, denominator, note)
                RETURNING id, partner_id, value, numerator, denominator, note
            )
            INSERT INTO measurement_history (measurement_id, partner_id, action, key_id, batch_id, new_value)
            SELECT id, partner_id, 'created', \(keyID), \(batchID), \(snapshot(of: "inserted")) FROM inserted
            """)
    }

    private static func update(_ connection: Connection, _ rows: [(id: Int, row: ValidRow)], batchID: UUID, keyID: String) throws {
        try connection.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(rows.map(\.id))::bigint[], \(rows.map(\.row.value))::float8[],
                                     \(rows.map(\.row.numerator))::float8[], \(rows.map(\.row.denominator))::float8[],
                                     \(rows.map(\.row.note))::text[])
                       AS u(id, value, numerator, denominator, note)
            ),
            old AS (SELECT m.* FROM measurements m JOIN input USING (id)),
            updated AS (
                UPDATE measurements m
                SET value = input.value, numerator = input.numerator, denominator = input.denominator, note = input.note,
                    batch_id = \(batchID), updated_by = \(keyID), updated_at = now()
                FROM input WHERE m.id = input.id
                RETURNING m.id, m.partner_id, m.value, m.numerator, m.denominator, m.note
            )
            INSERT INTO measurement_history (measurement_id, partner_id, action, key_id, batch_id, old_value, new_value)
            SELECT updated.id, updated.partner_id, 'updated', \(keyID), \(batchID), \(snapshot(of: "old")), \(snapshot(of: "updated"))
            FROM updated JOIN old ON old.id = updated.id
            """)
    }
}
