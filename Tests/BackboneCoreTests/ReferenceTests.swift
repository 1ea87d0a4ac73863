import BackboneCore
import Postgres
import TestSupport
import Testing

/// Measurements name their partner, indicator and neighborhood without foreign keys (see
/// functions.sql); the database must still refuse every way of breaking those references.
@Suite("Measurement references hold without foreign keys")
struct ReferenceTests {
    /// A fresh database at today's schema with a small registry: one agenda and indicator,
    /// a city with two neighborhoods, two partners.
    static func seeded() throws -> String {
        let conninfo = try TestDatabase.fresh()
        let connection = try Connection(conninfo)
        _ = try Schema.migrate(connection)
        try connection.execute(
            """
            INSERT INTO agendas (id, name) VALUES ('literacy', 'Every adult reads');
            INSERT INTO indicators (code, agenda_id, name, value_type, aggregation, period_type)
            VALUES ('esl_learners', 'literacy', 'ESL learners enrolled', 'count', 'sum', 'month');
            INSERT INTO neighborhoods (code, name, parent_code)
            VALUES ('city', 'City', NULL), ('northside', 'Northside', 'city'), ('southside', 'Southside', 'city');
            INSERT INTO partners (id, name, kind)
            VALUES ('central-library', 'Central Library', 'library'), ('literacy-now', 'Literacy Now', 'nonprofit');
            """)
        return conninfo
    }

    static func count(_ connection: Connection, _ table: String, where condition: String = "TRUE") throws -> Int {
        try connection.query("SELECT count(*) FROM \(Query(unsafeSQL: table)) WHERE \(Query(unsafeSQL: condition))")[0]
            .decode(Int.self, at: 0)
    }

    @Test func unknownReferencesAreRefusedAndReferencedRowsStay() throws {
        let connection = try Connection(try Self.seeded())
        // A measurement as an upload stores it, with its creation record.
        try connection.execute(
            """
            INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, batch_id,
                                      updated_by, created_by, created_batch_id)
            VALUES ('central-library', 'esl_learners', 'northside', '2026-03', '2026-03-01', 12, gen_random_uuid(), 'k', 'k',
                    gen_random_uuid())
            """)

        func refused(_ sql: String) -> Bool {
            do {
                try connection.execute(sql)
                return false
            } catch let error as PostgresError {
                return error.isForeignKeyViolation && error.constraint == "measurement_references"
            } catch {
                return false
            }
        }
        for (column, value) in [
            ("partner_id", "nobody"), ("indicator_code", "nothing"), ("neighborhood_code", "nowhere"),
        ] {
            var values = [
                "partner_id": "'central-library'", "indicator_code": "'esl_learners'",
                "neighborhood_code": "'southside'",
            ]
            values[column] = "'\(value)'"
            #expect(
                refused(
                    """
                    INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, batch_id, updated_by)
                    VALUES (\(values["partner_id"]!), \(values["indicator_code"]!), \(values["neighborhood_code"]!), '2026-03', '2026-03-01', 1,
                            gen_random_uuid(), 'sql')
                    """), "an unknown \(column) was stored")
        }
        #expect(try Self.count(connection, "measurements") == 1)

        #expect(refused("DELETE FROM partners WHERE id = 'central-library'"))
        #expect(refused("DELETE FROM indicators WHERE code = 'esl_learners'"))
        #expect(refused("UPDATE neighborhoods SET code = 'north' WHERE code = 'northside'"))
        #expect(refused("UPDATE measurements SET partner_id = 'literacy-now'"))
        // Nor can the creation record its 'created' history entry is read from.
        for change in [
            "created_by = 'someone'", "created_batch_id = gen_random_uuid()", "created_at = now() - interval '1 day'",
        ] {
            let error = #expect(throws: PostgresError.self) {
                try connection.execute("UPDATE measurements SET \(change)")
            }
            #expect(error?.constraint == "measurement_created", "\(change)")
        }
        // Rows nothing refers to, and changes that keep the key, go through.
        try connection.execute("UPDATE neighborhoods SET name = 'North Side' WHERE code = 'northside'")
        try connection.execute("UPDATE measurements SET value = 13")
        try connection.execute("DELETE FROM partners WHERE id = 'literacy-now'")
        #expect(try Self.count(connection, "partners") == 1)
    }

    @Test func removingAPartnerWaitsForAnUploadInFlightThenRefuses() async throws {
        let conninfo = try Self.seeded()
        let upload = try Connection(conninfo)
        try upload.execute("BEGIN")
        try upload.execute(
            """
            INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, batch_id, updated_by)
            VALUES ('literacy-now', 'esl_learners', 'northside', '2026-03', '2026-03-01', 1, gen_random_uuid(), 'sql')
            """)
        let removal = Task.detached { () -> String in
            let connection = try Connection(conninfo)
            do {
                try connection.execute("DELETE FROM partners WHERE id = 'literacy-now'")
                return "deleted"
            } catch let error as PostgresError {
                return error.constraint ?? "\(error)"
            }
        }
        // The removal cannot see the uncommitted row; it must wait for the upload, not delete.
        try await Task.sleep(for: .milliseconds(300))
        try upload.execute("COMMIT")
        #expect(try await removal.value == "measurement_references")
        #expect(try Self.count(upload, "partners", where: "id = 'literacy-now'") == 1)
    }
}
