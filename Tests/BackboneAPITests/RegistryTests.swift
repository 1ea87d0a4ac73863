import Foundation
import TestSupport
import Testing

@Suite("The common agenda registry")
struct RegistryTests {
    @Test func indicatorLifecycle() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let read = try await app.coordinator("GET", "/v1/indicators/esl_learners")
        #expect(read.status == 200)
        #expect(read.json["aggregation"] as? String == "sum")
        #expect((read.json["dimensions"] as? [[String: Any]])?.first?["name"] as? String == "age_group")

        let patched = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners",
            json: #"{"target": {"period": "2027-12", "value": 900}, "unit": "learners"}"#)
        #expect(patched.status == 200, "\(patched.text)")
        #expect((patched.json["target"] as? [String: Any])?["value"] as? Int == 900)
        #expect(patched.json["name"] as? String == "ESL learners enrolled")

        let deactivated = try await app.coordinator("DELETE", "/v1/indicators/esl_learners")
        #expect(deactivated.status == 200)
        #expect(deactivated.json["active"] as? Bool == false)
        let active = try await app.coordinator("GET", "/v1/indicators?active=true")
        let codes = (active.json["items"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes == ["pass_rate", "volunteers"])
        try await app.stop()
    }

    @Test func listsArePaginatedWithACursor() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let first = try await app.coordinator("GET", "/v1/neighborhoods?limit=2")
        #expect(
            (first.json["items"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["city", "northside"])
        let cursor = try #require(first.json["next_cursor"] as? String)
        let second = try await app.coordinator("GET", "/v1/neighborhoods?limit=2&cursor=\(cursor)")
        #expect((second.json["items"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["southside"])
        #expect(second.json["next_cursor"] is NSNull)
        let children = try await app.coordinator("GET", "/v1/neighborhoods?parent=city")
        #expect((children.json["items"] as? [Any])?.count == 2)
        #expect(try await app.coordinator("GET", "/v1/neighborhoods?colour=red").status == 400)
        try await app.stop()
    }

    @Test func everyInvalidFieldIsReportedAtOnce() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let response = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "Bad Code", "agenda": "literacy", "value_type": "count", "aggregation": "median", "period_type": "month", "min": "zero", "colour": "red"}"#
        )
        #expect(response.status == 422 && response.isProblem)
        let fields = Set(response.fieldErrors.map { "\($0.field):\($0.code)" })
        #expect(
            fields == [
                "code:invalid-slug", "name:required", "aggregation:not-allowed", "min:wrong-type",
                "colour:unknown-field",
            ])
        #expect(try app.count("indicators") == 4)
        try await app.stop()
    }

    @Test func constraintsComeBackAsFieldErrorsAndConflicts() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let duplicate = try await app.coordinator(
            "POST", "/v1/partners", json: #"{"id": "central-library", "name": "Again", "kind": "library"}"#)
        #expect(duplicate.status == 409 && duplicate.json["code"] as? String == "already-exists")
        let unknownAgenda = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "x", "agenda": "nope", "name": "X", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#
        )
        #expect(unknownAgenda.status == 422)
        #expect(unknownAgenda.fieldErrors.first?.field == "agenda")
        let backwards = try await app.coordinator(
            "POST", "/v1/agendas",
            json: #"{"id": "x", "name": "X", "starts_on": "2026-01-01", "ends_on": "2025-01-01"}"#)
        #expect(backwards.status == 422 && backwards.fieldErrors.first?.field == "ends_on")
        let baseline = try await app.coordinator(
            "PATCH", "/v1/indicators/pass_rate", json: #"{"baseline": {"period": "2025-03", "value": 40}}"#)
        #expect(baseline.status == 422)
        #expect(baseline.fieldErrors.first.map { "\($0.field):\($0.code)" } == "baseline.period:period-type-mismatch")
        try await app.stop()
    }

    @Test func neighborhoodTreeRefusesCycles() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let cycle = try await app.coordinator("PATCH", "/v1/neighborhoods/city", json: #"{"parent": "northside"}"#)
        #expect(cycle.status == 422)
        #expect(cycle.fieldErrors.first.map { "\($0.field):\($0.code)" } == "parent:cycle")
        let own = try await app.coordinator("PATCH", "/v1/neighborhoods/city", json: #"{"parent": "city"}"#)
        #expect(own.status == 422)
        let stillRoot = try await app.coordinator("GET", "/v1/neighborhoods/city")
        #expect(stillRoot.json["parent"] is NSNull)
        try await app.stop()
    }

    @Test func indicatorInUseKeepsItsAggregationAndPeriodType() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(try await app.coordinator("POST", "/v1/measurements", json: row()).status == 200)
        let aggregation = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners", json: #"{"aggregation": "mean"}"#)
        #expect(aggregation.status == 409 && aggregation.json["code"] as? String == "indicator-in-use")
        let periodType = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners", json: #"{"period_type": "quarter"}"#)
        #expect(periodType.status == 409)
        #expect(try await app.coordinator("GET", "/v1/indicators/esl_learners").json["aggregation"] as? String == "sum")
        // An unused indicator may still change.
        #expect(
            try await app.coordinator("PATCH", "/v1/indicators/volunteers", json: #"{"aggregation": "max"}"#).status
                == 200)
        try await app.stop()
    }

    @Test func commitmentsRecordWhoReportsWhat() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let created = try await app.coordinator(
            "POST", "/v1/commitments",
            json: #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside"}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? Int)
        let again = try await app.coordinator(
            "POST", "/v1/commitments",
            json: #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside"}"#)
        #expect(again.status == 409)
        let listed = try await app.coordinator("GET", "/v1/commitments?partner=central-library")
        #expect((listed.json["items"] as? [Any])?.count == 1)
        #expect(try await app.coordinator("DELETE", "/v1/commitments/\(id)").status == 204)
        #expect(try app.count("commitments") == 0)
        try await app.stop()
    }
}

@Suite("Registry input edge cases")
struct RegistryEdgeCaseTests {
    @Test(arguments: [
        (
            "POST", "/v1/neighborhoods", #"{"code": "big", "name": "Big", "population": 3000000000}"#, "population",
            "out-of-range"
        ),
        (
            "POST", "/v1/indicators",
            #"{"code": "inf1", "agenda": "literacy", "name": "n", "value_type": "count", "aggregation": "sum", "period_type": "month", "max": 1e400}"#,
            "max", "out-of-range"
        ),
        ("POST", "/v1/agendas", #"{"id": "ab2", "name": "a", "starts_on": "0000-01-01"}"#, "starts_on", "invalid-date"),
        ("PATCH", "/v1/agendas/literacy", #"{"name": "   "}"#, "name", "required"),
        ("PATCH", "/v1/agendas/literacy", #"{"name": null}"#, "name", "required"),
        (
            "POST", "/v1/indicators",
            #"{"code": "x1", "agenda": "literacy", "name": "n", "value_type": "count", "aggregation": "sum", "period_type": "month", "dimensions": [{"name": "a", "values": ["x\u0000"]}]}"#,
            "dimensions[0].values[0]", "wrong-type"
        ),
    ])
    func refusedAs422(_ method: String, _ path: String, _ body: String, _ field: String, _ code: String) async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let response = try await app.coordinator(method, path, json: body)
        #expect(response.status == 422, "\(response.text)")
        #expect(response.fieldErrors.contains { $0.field == field && $0.code == code }, "\(response.fieldErrors)")
        #expect(try await app.coordinator("GET", "/v1/indicators").status == 200)
        #expect(try await app.coordinator("GET", "/v1/agendas/literacy").json["name"] as? String == "Every adult reads")
        try await app.stop()
    }

    @Test func keysListAndNulCharactersAreHandled() async throws {
        let app = try await TestApp.start()
        #expect(try await app.coordinator("GET", "/v1/keys").status == 200)
        #expect(try await app.coordinator("GET", "/v1/agendas/%00").status == 400)
        let csv =
            "partner,indicator,neighborhood,period,value,note\ncentral-library,esl_learners,northside,2026-01,5,a\u{0}b\n"
        let response = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(csv.utf8), contentType: "text/csv")
        #expect(response.status == 422)
        #expect(response.fieldErrors.contains { $0.row == 1 && $0.field == "note" })
        try await app.stop()
    }
}
