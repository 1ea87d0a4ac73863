import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// A database of the previous release holding data, upgraded by `Schema.migrate`, reads
/// through the API as before, and as the same writes read on a database created at today's
/// version. (The schema's own upgrade is checked in `Tests/BackboneCoreTests/SchemaUpgradeTests.swift`.)
@Suite("Data written before an upgrade reads the same after it")
struct UpgradedDataTests {
    /// A database exactly as version 5 left it.
    static func version5Database() throws -> String {
        let conninfo = try TestDatabase.version5()
        #expect(try Schema.currentVersion(Connection(conninfo)) == 5)
        return conninfo
    }

    /// This build reads an agenda's release_after_days (version 10) and the validation rules
    /// and flags a submission checks and opens (version 11): lent to an older database while
    /// data is written, and taken back (`takeBackNewerParts`) before the migration makes them.
    static func lendNewerParts(_ connection: Connection) throws {
        try connection.execute("ALTER TABLE agendas ADD COLUMN release_after_days integer")
        let version11 = try #require(Schema.Definition.embedded.migrations.first { $0.version == 11 })
        try connection.execute(version11.sql)
        // Version 13: an agenda's reporting_due_days and the outbox events are written to.
        let version13 = try #require(Schema.Definition.embedded.migrations.first { $0.version == 13 })
        try connection.execute(version13.sql)
    }

    static func takeBackNewerParts(_ connection: Connection) throws {
        try connection.execute("ALTER TABLE agendas DROP COLUMN release_after_days, DROP COLUMN reporting_due_days")
        try connection.execute(
            "DROP TABLE quality_flag_history, quality_flags, validation_rule_history, validation_rules")
        try connection.execute(
            """
            DROP TABLE webhook_attempts, webhook_deliveries, webhook_endpoints, digests_sent, reminders_sent,
                outbox_events
            """)
    }

    /// A database at version 6: version 6 changed functions only, to ones that compute the
    /// same rollups, so version 5's functions stand in for them.
    static func version6Database() throws -> String {
        let conninfo = try version5Database()
        let connection = try Connection(conninfo)
        let migration = try #require(Schema.Definition.embedded.migrations.first { $0.version == 6 })
        try connection.execute(migration.sql)
        try connection.execute("INSERT INTO schema_migrations (version) VALUES (6)")
        return conninfo
    }

    @Test func dataWrittenAtVersion5ReadsTheSameAfterTheMigration() async throws {
        let conninfo = try Self.version5Database()
        let app = try await TestApp.start(on: conninfo, migrate: false)
        let connection = try Connection(conninfo)
        try Self.lendNewerParts(connection)
        try await app.seedRegistry()
        try await Self.submitMeasurements(app)
        // A measurement written before version 5 kept its 'created' entry in the history table.
        try connection.execute(
            """
            WITH old AS (
                INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, batch_id, updated_by, created_at, updated_at)
                VALUES ('literacy-now', 'volunteers', 'southside', '2025-12', '2025-12-01', 7, gen_random_uuid(), 'old-key', '2025-12-31', '2025-12-31')
                RETURNING id, partner_id, batch_id
            )
            INSERT INTO measurement_history (measurement_id, partner_id, action, key_id, batch_id, at, new_value)
            SELECT id, partner_id, 'created', 'old-key', batch_id, '2025-12-31', '{"value": 7, "numerator": null, "denominator": null, "note": null}' FROM old
            """)
        // This build's reports read registry_version (version 9): lent to the version 5
        // database while it is read (nothing counts the registry's changes meanwhile, and
        // nothing changes it), and taken back so that the migration makes it.
        let version9 = try #require(Schema.Definition.embedded.migrations.first { $0.version == 9 })
        try connection.execute(version9.sql)
        let before = try await Self.readEverything(app)
        try connection.execute("DROP TABLE registry_version")
        try Self.takeBackNewerParts(connection)
        #expect(before.count > 10)
        #expect(try connection.query("SELECT count(*) FROM measurement_rollups")[0].decode(Int.self, at: 0) > 5)

        #expect(try Schema.migrate(connection) == .migrated(from: 5, to: Schema.requiredVersion))
        let versions = try connection.query("SELECT version FROM schema_migrations ORDER BY version").map {
            try $0.decode(Int.self, at: 0)
        }
        #expect(versions == Array(1...Schema.requiredVersion))
        #expect(try Schema.migrate(connection) == .alreadyCurrent(version: Schema.requiredVersion))

        // Reports, measurements and every history read the same through the new code.
        let after = try await Self.readEverything(app)
        #expect(after.count == before.count)
        for (path, text) in before where after[path] != text {
            Issue.record("\(path) changed by the migration:\nbefore: \(text)\nafter:  \(after[path] ?? "nothing")")
        }
        var (expected, stored) = try RollupTests.compare(connection)
        #expect(stored == expected)
        var (expectedLatest, storedLatest) = try RollupTests.compareSeriesLatest(connection)
        #expect(storedLatest == expectedLatest)
        #expect(storedLatest.count > 2)

        // The new triggers keep the upgraded rollups current.
        try await Self.submitMeasurements(app, shift: 3)
        (expected, stored) = try RollupTests.compare(connection)
        #expect(stored == expected)
        (expectedLatest, storedLatest) = try RollupTests.compareSeriesLatest(connection)
        #expect(storedLatest == expectedLatest)
        try await app.stop()
    }

    /// Stocks written at version 6 (before series_latest) report after the migration exactly
    /// as the same writes do on a database created at today's version, before and after
    /// more inserts, corrections and a retraction.
    @Test func stocksWrittenAtVersion6ReadAsOnAFreshDatabase() async throws {
        let conninfo = try Self.version6Database()
        let upgraded = try await TestApp.start(on: conninfo, migrate: false)
        let fresh = try await TestApp.start()
        let connection = try Connection(conninfo)
        try Self.lendNewerParts(connection)
        for app in [upgraded, fresh] {
            try await app.seedRegistry()
            try await Self.submitMeasurements(app)
        }
        try Self.takeBackNewerParts(connection)
        #expect(try Schema.migrate(connection) == .migrated(from: 6, to: Schema.requiredVersion))
        let paths = [
            "/v1/reports/indicators/volunteers?by=neighborhood",
            "/v1/reports/indicators/volunteers?by=neighborhood,period",
            "/v1/reports/indicators/volunteers?by=neighborhood&from=2025-01&to=2025-12",
            "/v1/reports/indicators/volunteers?from=2025-02&to=2025-06",
            "/v1/reports/indicators/volunteers?from=2025-01&to=2025-01",
            "/v1/reports/indicators/volunteers?by=neighborhood&from=2025-01&to=2025-04",
            "/v1/reports/indicators/volunteers?by=period&period_type=quarter",
        ]
        for shift in [0, 3] {
            if shift > 0 {
                for app in [upgraded, fresh] { try await Self.submitMeasurements(app, shift: shift) }
            }
            for path in paths {
                let (read, expected) = (
                    try await upgraded.coordinator("GET", path), try await fresh.coordinator("GET", path)
                )
                #expect(read.status == 200 && expected.status == 200, "\(path): \(read.text)")
                #expect(read.text == expected.text, "\(path) after shift \(shift)")
            }
            let (expectedLatest, storedLatest) = try RollupTests.compareSeriesLatest(connection)
            #expect(storedLatest == expectedLatest)
            #expect(storedLatest.count > 2)
        }
        try await upgraded.stop()
        try await fresh.stop()
    }

    /// Inserts, corrections and a retraction by two partners, for every kind of indicator.
    static func submitMeasurements(_ app: TestApp, shift: Int = 0) async throws {
        func month(_ offset: Int) -> String { String(format: "2025-%02d", offset + shift) }
        var rows: [String] = []
        for (index, neighborhood) in ["northside", "southside", "city"].enumerated() {
            for (group, ageGroup) in ["16-24", "25-44", "45+"].enumerated() {
                for partner in ["central-library", "literacy-now"] {
                    rows.append(
                        #"{"partner": "\#(partner)", "indicator": "esl_learners", "neighborhood": "\#(neighborhood)", "period": "\#(month(1 + group))", "value": \#(10 * index + group + partner.count), "dimensions": {"age_group": "\#(ageGroup)"}}"#
                    )
                }
            }
            rows.append(
                #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "\#(neighborhood)", "period": "2025-Q\#(1 + shift / 3)", "numerator": \#(3 + index), "denominator": 9}"#
            )
            rows.append(
                #"{"partner": "literacy-now", "indicator": "pass_rate", "neighborhood": "\#(neighborhood)", "period": "2025-Q\#(1 + shift / 3)", "numerator": 1, "denominator": \#(4 + index)}"#
            )
            rows.append(
                #"{"partner": "literacy-now", "indicator": "volunteers", "neighborhood": "\#(neighborhood)", "period": "\#(month(1))", "value": \#(20 + index)}"#
            )
            rows.append(
                #"{"partner": "literacy-now", "indicator": "volunteers", "neighborhood": "\#(neighborhood)", "period": "\#(month(2))", "value": \#(18 + index)}"#
            )
        }
        let created = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        #expect(created.status == 200 || created.status == 201, "\(created.text)")
        #expect(created.json["created"] as? Int == rows.count, "\(created.text)")
        // Corrections: two values change, one ratio changes both terms.
        let corrections = [
            #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside", "period": "\#(month(1))", "value": 99, "dimensions": {"age_group": "16-24"}}"#,
            #"{"partner": "literacy-now", "indicator": "volunteers", "neighborhood": "city", "period": "\#(month(2))", "value": 3}"#,
            #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "southside", "period": "2025-Q\#(1 + shift / 3)", "numerator": 8, "denominator": 8}"#,
        ]
        let updated = try await app.coordinator("POST", "/v1/measurements", json: batch(corrections))
        #expect(updated.json["updated"] as? Int == corrections.count, "\(updated.text)")
        // A retraction: the minimum of its cell and one partner leave it.
        let listed = try await app.coordinator(
            "GET",
            "/v1/measurements?indicator=esl_learners&partner=literacy-now&neighborhood=southside&period=\(month(2))")
        let id = try #require((listed.json["items"] as? [[String: Any]])?.first?["id"] as? Int, "\(listed.text)")
        #expect(try await app.coordinator("DELETE", "/v1/measurements/\(id)").status == 204)
    }

    /// Every report, the measurements and each one's history, by request path; not the stock
    /// (volunteers) over several periods, which reads series_latest, new in version 7 (the
    /// version 6 test compares those).
    static func readEverything(_ app: TestApp) async throws -> [String: String] {
        var paths = [
            "/v1/measurements?limit=1000",
            "/v1/reports/scorecard?agenda=literacy",
            "/v1/reports/indicators/esl_learners?by=dimension:age_group&within=northside&period=2025-02",
            "/v1/reports/indicators/esl_learners?by=period&period_type=quarter",
            "/v1/reports/indicators/esl_learners?by=neighborhood&level=1",
            "/v1/reports/equity?indicator=esl_learners&period=2025-02",
            "/v1/reports/indicators/volunteers?by=neighborhood&period=2025-02",
        ]
        for indicator in ["esl_learners", "pass_rate"] {
            paths.append("/v1/reports/indicators/\(indicator)?by=neighborhood,period")
            paths.append("/v1/reports/indicators/\(indicator)?by=partner,period&from=2025-01&to=2025-12")
        }
        var texts: [String: String] = [:]
        for path in paths {
            let response = try await app.coordinator("GET", path)
            #expect(response.status == 200, "\(path): \(response.text)")
            texts[path] = response.text
        }
        let items = try #require(try JSONSerialization.jsonObject(with: Data(texts[paths[0]]!.utf8)) as? [String: Any])[
            "items"]
        for case let id as Int in (items as? [[String: Any]] ?? []).map({ $0["id"] }) {
            let path = "/v1/measurements/\(id)/history"
            texts[path] = try await app.coordinator("GET", path).text
        }
        return texts
    }
}
