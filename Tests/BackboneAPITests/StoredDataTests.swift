import Foundation
import Postgres
import TestSupport
import Testing

/// What the database holds is read strictly: a value this version does not know is an
/// error the caller sees (500 `unreadable-stored-data` naming the column), never a default.
@Suite("Stored data is read strictly")
struct StoredDataTests {
    @Test func anUnknownStoredAggregationIsAnErrorNotSum() async throws {
        let app = try await seededApp(changedBehindItsBack: [
            "ALTER TABLE indicators DROP CONSTRAINT indicators_aggregation_check",
            "UPDATE indicators SET aggregation = 'median' WHERE code = 'esl_learners'",
        ])
        for path in ["/v1/indicators/esl_learners", "/v1/indicators", "/v1/reports/indicators/esl_learners?by=period"] {
            let response = try await app.coordinator("GET", path)
            #expect(response.status == 500, "\(path): \(response.text)")
            #expect(response.json["code"] as? String == "unreadable-stored-data", "\(path)")
            #expect((response.json["detail"] as? String)?.contains("indicators.aggregation") == true, "\(path)")
        }
        let submitted = try await app.coordinator("POST", "/v1/measurements", json: row())
        #expect(submitted.status == 500)
        #expect(submitted.json["code"] as? String == "unreadable-stored-data")
        try await app.stop()
    }

    @Test func anUnknownStoredPartnerKindIsAnError() async throws {
        let app = try await seededApp(changedBehindItsBack: [
            "ALTER TABLE partners DROP CONSTRAINT partners_kind_check",
            "UPDATE partners SET kind = 'guild' WHERE id = 'literacy-now'",
        ])
        let response = try await app.coordinator("GET", "/v1/partners/literacy-now")
        #expect(response.status == 500)
        #expect((response.json["detail"] as? String)?.contains("partners.kind") == true)
        #expect(try await app.coordinator("GET", "/v1/partners/central-library").status == 200)
        try await app.stop()
    }

    @Test func storedDimensionsThatAreNotAnObjectOfStringsAreAnError() async throws {
        let app = try await seededApp(changedBehindItsBack: [])
        #expect(try await app.coordinator("POST", "/v1/measurements", json: row()).json["created"] as? Int == 1)
        #expect(try await app.coordinator("GET", "/v1/measurements").status == 200)
        // Past the trigger that keeps a measurement's dimensions from changing, as a hand edit would be.
        try Connection(app.conninfo).execute(
            #"""
            ALTER TABLE measurements DISABLE TRIGGER measurements_identity_fixed;
            UPDATE measurements SET dimensions = '{"age_group": 25}';
            ALTER TABLE measurements ENABLE TRIGGER measurements_identity_fixed;
            """#)
        let response = try await app.coordinator("GET", "/v1/measurements")
        #expect(response.status == 500, "\(response.text)")
        #expect(response.json["code"] as? String == "unreadable-stored-data")
        try await app.stop()
    }

    /// A rollup's partner list that is not a list of known partner numbers is an error,
    /// whether it is malformed, empty or names a partner number no partner has.
    @Test func aRollupPartnerListThatDoesNotReadIsAnError() async throws {
        let path = "/v1/reports/indicators/esl_learners?by=neighborhood&from=2026-01&to=2026-12"
        for list in ["1,x", "", "1,,2", "99999"] {
            let app = try await seededApp(changedBehindItsBack: [])
            #expect(try await app.coordinator("POST", "/v1/measurements", json: row()).json["created"] as? Int == 1)
            #expect(try await app.coordinator("GET", path).status == 200)
            try Connection(app.conninfo).execute("UPDATE measurement_rollups SET partner_list = '\(list)'")
            let response = try await app.coordinator("GET", path)
            #expect(response.status == 500, "\(list): \(response.text)")
            #expect(response.json["code"] as? String == "unreadable-stored-data", "\(list)")
            try await app.stop()
        }
    }

    @Test func aHistorySnapshotOfAnotherShapeIsAnError() async throws {
        let app = try await seededApp(changedBehindItsBack: [])
        #expect(try await app.coordinator("POST", "/v1/measurements", json: row()).json["created"] as? Int == 1)
        let items = try await app.coordinator("GET", "/v1/measurements").json["items"] as? [[String: Any]]
        let id = try #require(items?.first?["id"] as? Int)
        #expect(try await app.coordinator("GET", "/v1/measurements/\(id)/history").status == 200)
        try Connection(app.conninfo).execute(
            #"INSERT INTO measurement_history (measurement_id, partner_id, action, key_id, new_value) SELECT id, partner_id, 'updated', 'k', '{"value": 1}' FROM measurements"#
        )
        let response = try await app.coordinator("GET", "/v1/measurements/\(id)/history")
        #expect(response.status == 500, "\(response.text)")
        #expect((response.json["detail"] as? String)?.contains("measurement_history") == true)
        try await app.stop()
    }

    /// The seeded registry, then `statements` run straight against the database.
    private func seededApp(changedBehindItsBack statements: [String]) async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let connection = try Connection(app.conninfo)
        for statement in statements { try connection.execute(statement) }
        return app
    }
}
