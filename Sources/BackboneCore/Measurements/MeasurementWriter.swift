import Aggregation
import Foundation
import Postgres

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
        if !dryRun, let created = try insertIfAllNew(connection, rows, batchID: batchID, keyID: keyID) {
            return Outcome(created: created)
        }
        var outcome = Outcome()
        var (pending, changed) = try classify(connection, rows, into: &outcome)
        if dryRun { return outcome }
        // A concurrent batch may create some of the same rows first: the insert waits for it
        // to commit and skips them, and they are then updates of its rows (or, if it was
        // retracted meanwhile, new again).
        for _ in 0..<3 where !pending.isEmpty {
            let inserted = try insert(connection, pending, batchID: batchID, keyID: keyID)
            if inserted == pending.count { pending = []; break }
            var raced = Outcome()
            let (stillNew, racedChanges) = try classify(connection, pending, into: &raced, skippingBatch: batchID)
            outcome.created -= raced.updated + raced.unchanged
            outcome.updated += raced.updated
            outcome.unchanged += raced.unchanged
            changed += racedChanges
            pending = stillNew
        }
        guard pending.isEmpty else {
            throw DomainError.conflict(
                code: "concurrent-change", "Other requests kept changing these measurements; send the batch again.")
        }
        if !changed.isEmpty { try update(connection, changed, batchID: batchID, keyID: keyID) }
        return outcome
    }

    /// Splits `rows` into new ones and changed stored ones (locked until commit), counting
    /// each kind into `outcome`. Stored rows written by `skippingBatch` are this batch's own.
    private static func classify(
        _ connection: Connection, _ rows: [ValidRow], into outcome: inout Outcome, skippingBatch: UUID? = nil
    ) throws -> (fresh: [ValidRow], changed: [(id: Int, row: ValidRow)]) {
        let existing = try connection.query(
            """
            SELECT i.ord, m.id, m.value, m.numerator, m.denominator, m.note, m.batch_id IS NOT DISTINCT FROM \(skippingBatch)
            FROM \(storedByKey(rows))
            FOR UPDATE OF m
            """)
        var stored: [Int: (id: Int, value: Double?, numerator: Double?, denominator: Double?, note: String?)] = [:]
        var own: Set<Int> = []
        for row in existing {
            let (ordinal, id, value, numerator, denominator, note, isOwn) =
                try row.decode((Int, Int, Double?, Double?, Double?, String?, Bool).self)
            if isOwn {
                own.insert(ordinal - 1)
            } else {
                stored[ordinal - 1] = (id, value, numerator, denominator, note)
            }
        }
        var fresh: [ValidRow] = []
        var changed: [(id: Int, row: ValidRow)] = []
        for (index, row) in rows.enumerated() where !own.contains(index) {
            guard let old = stored[index] else {
                fresh.append(row)
                continue
            }
            if old.value == row.value, old.numerator == row.numerator, old.denominator == row.denominator,
                old.note == row.note
            {
                outcome.unchanged += 1
            } else {
                changed.append((old.id, row))
            }
        }
        outcome.created += fresh.count
        outcome.updated += changed.count
        return (fresh, changed)
    }

    /// The stored measurements with `rows`' natural keys, as a `FROM` item: `rows` unnested
    /// as `i` (`i.ord` a row's position in `rows`, from 1) joined to `measurements m`.
    static func storedByKey(_ rows: [ValidRow]) -> Query {
        """
        unnest(\(rows.map(\.partner))::text[], \(rows.map(\.indicator))::text[],
               \(rows.map(\.neighborhood))::text[], \(rows.map(\.period.description))::text[],
               \(rows.map(\.dimensionKey))::text[])
            WITH ORDINALITY AS i(partner, indicator, neighborhood, period, dimension_key, ord)
        JOIN measurements m ON m.indicator_code = i.indicator AND m.partner_id = i.partner
             AND m.neighborhood_code = i.neighborhood AND m.period = i.period AND m.dimension_key = i.dimension_key
        """
    }

    static let snapshot =
        "jsonb_build_object('value', %@.value, 'numerator', %@.numerator, 'denominator', %@.denominator, 'note', %@.note)"

    static func snapshot(of alias: String) -> Query {
        Query(unsafeSQL: snapshot.replacingOccurrences(of: "%@", with: alias))
    }

    /// Most uploads are new rows (a partner's history, next month's figures): this stores
    /// them with one plain insert, without looking each key up first. If a row exists
    /// already, the insert is undone and the result is nil.
    private static func insertIfAllNew(_ connection: Connection, _ rows: [ValidRow], batchID: UUID, keyID: String)
        throws -> Int?
    {
        do {
            return try connection.savepoint {
                try insert($0, rows, batchID: batchID, keyID: keyID, skippingExisting: false)
            }
        } catch let error as PostgresError
            where error.isUniqueViolation && error.constraint == "measurements_natural_key"
        {
            return nil
        }
    }

    /// Inserts the rows and returns how many it inserted; `skippingExisting` skips rows
    /// someone has stored (waiting for a concurrent writer of the same row to finish),
    /// otherwise one makes the statement fail. The rows' 'created' history entries are
    /// read from `created_by` and `created_batch_id`.
    private static func insert(
        _ connection: Connection, _ rows: [ValidRow], batchID: UUID, keyID: String, skippingExisting: Bool = true
    ) throws -> Int {
        let inserted = try connection.query(
            """
            WITH inserted AS (
                INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start,
                                          dimension_key, dimensions, value, numerator, denominator, note, batch_id, updated_by,
                                          created_by, created_batch_id)
                SELECT partner, indicator, neighborhood, period, period_start, dimension_key,
                       CASE WHEN dimension_key = '' THEN '{}'::jsonb ELSE dimension_key::jsonb END,
                       value, numerator, denominator, note, \(batchID), \(keyID), \(keyID), \(batchID)
                FROM unnest(\(rows.map(\.partner))::text[], \(rows.map(\.indicator))::text[], \(rows.map(\.neighborhood))::text[],
                            \(rows.map(\.period.description))::text[], \(rows.map(\.period.start))::date[],
                            \(rows.map(\.dimensionKey))::text[], \(rows.map(\.value))::float8[],
                            \(rows.map(\.numerator))::float8[], \(rows.map(\.denominator))::float8[], \(rows.map(\.note))::text[])
                     AS i(partner, indicator, neighborhood, period, period_start, dimension_key, value, numerator, denominator, note)
                \(skippingExisting ? "ON CONFLICT ON CONSTRAINT measurements_natural_key DO NOTHING" as Query : "")
                RETURNING 1
            )
            SELECT count(*) FROM inserted
            """)
        return try inserted[0].decode(Int.self, at: 0)
    }

    private static func update(
        _ connection: Connection, _ rows: [(id: Int, row: ValidRow)], batchID: UUID, keyID: String
    ) throws {
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
