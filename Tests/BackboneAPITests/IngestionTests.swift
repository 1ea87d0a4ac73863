import Foundation
import TestSupport
import Testing

@Suite("Submitting, correcting and auditing measurements")
struct IngestionTests {
    @Test func repostingUpdatesAndAnIdenticalValueIsUnchanged() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let first = try await app.coordinator("POST", "/v1/measurements", json: row(value: "12"))
        #expect(first.json["created"] as? Int == 1)
        let same = try await app.coordinator("POST", "/v1/measurements", json: row(value: "12"))
        #expect(same.json["unchanged"] as? Int == 1 && same.json["created"] as? Int == 0)
        #expect(try await app.historyActions() == [["created"]])
        let changed = try await app.coordinator("POST", "/v1/measurements", json: row(value: "15"))
        #expect(changed.json["updated"] as? Int == 1)
        #expect(try app.count("measurements") == 1)

        let list = try await app.coordinator("GET", "/v1/measurements?indicator=esl_learners")
        let id = try #require((list.json["items"] as? [[String: Any]])?.first?["id"] as? Int)
        let history = try await app.coordinator("GET", "/v1/measurements/\(id)/history")
        let entries = try #require(history.json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["action"] as? String } == ["created", "updated"])
        #expect((entries[1]["old"] as? [String: Any])?["value"] as? Int == 12)
        #expect((entries[1]["new"] as? [String: Any])?["value"] as? Int == 15)
        #expect(entries.allSatisfy { $0["key"] is String && $0["at"] is String })
        try await app.stop()
    }

    @Test func zeroIsStoredAsData() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(
            try await app.coordinator("POST", "/v1/measurements", json: row(value: "0")).json["created"] as? Int == 1)
        let list = try await app.coordinator("GET", "/v1/measurements")
        #expect((list.json["items"] as? [[String: Any]])?.first?["value"] as? Int == 0)
        try await app.stop()
    }

    @Test func partialModeStoresTheValidRowsAndReportsTheRest() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let body = batch([row(period: "2026-01"), row(period: "2026-13"), row(period: "2026-02")])
        let response = try await app.coordinator("POST", "/v1/measurements?mode=partial", json: body)
        #expect(response.status == 200)
        #expect(response.json["created"] as? Int == 2)
        #expect(response.json["rejected"] as? Int == 1)
        #expect(response.json["received"] as? Int == 3)
        #expect(response.fieldErrors.map { "\($0.row ?? -1):\($0.field)" } == ["1:period"])
        #expect(try app.count("measurements") == 2)
        try await app.stop()
    }

    @Test func dryRunReportsWithoutStoring() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(
            try await app.coordinator("POST", "/v1/measurements", json: row(period: "2026-01", value: "5")).status
                == 200)
        let body = batch([row(period: "2026-01", value: "6"), row(period: "2026-02")])
        let response = try await app.coordinator("POST", "/v1/measurements?dry_run=true", json: body)
        #expect(response.status == 200)
        #expect(response.json["dry_run"] as? Bool == true)
        #expect(response.json["updated"] as? Int == 1 && response.json["created"] as? Int == 1)
        #expect(try app.count("measurements") == 1)
        #expect(try app.count("measurements", where: "value = 5") == 1)
        #expect(try await app.historyActions() == [["created"]])
        try await app.stop()
    }

    @Test func idempotencyKeyMakesARetrySafe() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let body = batch([row(period: "2026-01"), row(period: "2026-02")])
        let first = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, json: body, headers: ["Idempotency-Key": "upload-2026-02"]
        )
        let retry = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, json: body, headers: ["Idempotency-Key": "upload-2026-02"]
        )
        #expect(first.status == 200 && retry.status == 200)
        #expect(retry.body == first.body)
        #expect(retry.header("idempotent-replayed") == "true")
        #expect(try await app.historyActions() == [["created"], ["created"]])
        let other = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, json: batch([row(period: "2026-03")]),
            headers: ["Idempotency-Key": "upload-2026-02"])
        #expect(other.status == 409 && other.json["code"] as? String == "idempotency-key-reused")
        // The query is part of the request: the same body as a dry run is another request.
        let dryRun = try await app.request(
            "POST", "/v1/measurements?dry_run=true", key: app.coordinator, json: body,
            headers: ["Idempotency-Key": "upload-2026-02"])
        #expect(dryRun.status == 409 && dryRun.json["code"] as? String == "idempotency-key-reused")
        let tooLong = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, json: body,
            headers: ["Idempotency-Key": String(repeating: "k", count: 256)])
        #expect(tooLong.status == 400 && tooLong.json["code"] as? String == "invalid-idempotency-key")
        #expect(try app.count("measurements") == 2)
        try await app.stop()
    }

    @Test func aSubmissionIsReadAsItsContentTypeSays() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let body = Data(batch([row(period: "2026-01")]).utf8)
        let text = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: body, contentType: "text/plain")
        #expect(text.status == 415 && text.json["code"] as? String == "unsupported-media-type")
        // curl -d sends JSON as a form; it is read as the JSON it is.
        let form = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: body,
            contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 200 && form.json["created"] as? Int == 1)
        try await app.stop()
    }

    @Test func csvWithEverySpreadsheetQuirk() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let csv =
            "\u{FEFF}partner,indicator,neighborhood,period,value,dim.age_group,note\r\n"
            + "central-library,esl_learners,northside,2026-01,12,25-44,\"spring cohort, evening\"\r\n"
            + "central-library,esl_learners,southside,2026-01,7,45+,\"said \"\"hello\"\"\"\r\n"
            + "central-library,esl_learners,northside,2026-02,9,16-24,\r\n"
            + "\r\n"
        let response = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(csv.utf8), contentType: "text/csv")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.json["received"] as? Int == 3)
        #expect(response.json["created"] as? Int == 3)
        #expect(try app.count("measurements", where: "note = 'spring cohort, evening'") == 1)
        #expect(try app.count("measurements", where: #"note = 'said "hello"'"#) == 1)
        #expect(try app.count("measurements", where: "note IS NULL AND value = 9") == 1)

        // Spreadsheets pad fields; padding around a field goes, quoted text keeps its own.
        let padded =
            "partner, indicator ,neighborhood,period,value,dim.age_group,note\n"
            + " central-library,esl_learners,northside,2026-03, 14 ,\t25-44,  \" quoted, padded \"  \n"
        let paddedResponse = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(padded.utf8), contentType: "text/csv")
        #expect(paddedResponse.json["created"] as? Int == 1, "\(paddedResponse.text)")
        #expect(try app.count("measurements", where: "value = 14 AND note = ' quoted, padded '") == 1)

        // CSV rows count from 1 after the header.
        let bad =
            "partner,indicator,neighborhood,period,value,dim.age_group\ncentral-library,esl_learners,northside,2026-03,1,25-44\ncentral-library,esl_learners,northside,2026-3,1,25-44\n"
        let refused = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(bad.utf8), contentType: "text/csv")
        #expect(refused.fieldErrors.map { "\($0.row ?? -1):\($0.field)" } == ["2:period"])

        // The export reads back with the same column names.
        let export = try await app.request(
            "GET", "/v1/measurements?format=csv&neighborhood=northside", key: app.coordinator)
        #expect(export.header("content-type")?.hasPrefix("text/csv") == true)
        let lines = export.text.split(separator: "\r\n")
        #expect(lines.first?.hasPrefix("id,partner,indicator,neighborhood,period,value") == true)
        #expect(lines.count == 4)
        #expect(export.text.contains("\"spring cohort, evening\""))
        try await app.stop()
    }

    @Test func tenThousandRowsInOneRequest() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        var neighborhoods: [String] = []
        for index in 0..<50 {
            let code = "n\(index)"
            neighborhoods.append(code)
            _ = try await app.coordinator(
                "POST", "/v1/neighborhoods", json: #"{"code": "\#(code)", "name": "N\#(index)", "parent": "city"}"#)
        }
        // 50 neighborhoods × 3 age groups × 67 months (2020-01 … 2025-07) ≥ 10,000 distinct keys.
        var rows: [String] = []
        var csv = "partner,indicator,neighborhood,period,value,dim.age_group\n"
        outer: for year in 2020...2025 {
            for month in 1...12 {
                for code in neighborhoods {
                    for group in ["16-24", "25-44", "45+"] {
                        let period = String(format: "%04d-%02d", year, month)
                        rows.append(
                            row(
                                neighborhood: code, period: period, value: "\(rows.count % 97)",
                                dimensions: #"{"age_group": "\#(group)"}"#))
                        csv += "central-library,esl_learners,\(code),\(period),\(rows.count % 89),\(group)\n"
                        if rows.count == 10_000 { break outer }
                    }
                }
            }
        }
        let started = ContinuousClock.now
        let response = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        let jsonTime = ContinuousClock.now - started
        #expect(response.status == 200, "\(response.text.prefix(500))")
        #expect(response.json["created"] as? Int == 10_000)
        #expect(try app.count("measurements") == 10_000)
        // Every row's audit trail starts with its creation by this batch.
        let batchID = try #require(response.json["batch_id"] as? String)
        let firstID = try #require(
            (try await app.coordinator("GET", "/v1/measurements?limit=1").json["items"] as? [[String: Any]])?.first?[
                "id"] as? Int)
        let created =
            try await app.coordinator("GET", "/v1/measurements/\(firstID)/history").json["entries"] as? [[String: Any]]
        #expect(created?.map { $0["action"] as? String } == ["created"])
        #expect(created?.first?["batch_id"] as? String == batchID)

        let csvStarted = ContinuousClock.now
        let csvResponse = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(csv.utf8), contentType: "text/csv")
        let csvTime = ContinuousClock.now - csvStarted
        #expect(
            csvResponse.json["updated"] as? Int ?? 0 + (csvResponse.json["unchanged"] as? Int ?? 0) == 10_000
                - (csvResponse.json["unchanged"] as? Int ?? 0))
        #expect(try app.count("measurements") == 10_000)
        print("10,000-row batch: JSON \(jsonTime), CSV (as updates) \(csvTime)")
        try await app.stop()
    }

    @Test func coordinatorCorrectsALockedPeriodAndItIsAudited() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(
            try await app.coordinator("POST", "/v1/measurements", json: row(period: "2026-02", value: "10")).status
                == 200)
        let lock = try await app.coordinator(
            "POST", "/v1/locks", json: #"{"indicator": "esl_learners", "period": "2026-02"}"#)
        let lockID = try #require(lock.json["id"] as? Int)
        let partner = try await app.key(role: "partner", partner: "central-library")
        let refused = try await app.request(
            "POST", "/v1/measurements", key: partner, json: row(period: "2026-02", value: "11"))
        #expect(refused.status == 409)
        let listed = try await app.request("GET", "/v1/measurements", key: partner)
        let id = try #require((listed.json["items"] as? [[String: Any]])?.first?["id"] as? Int)
        #expect(try await app.request("DELETE", "/v1/measurements/\(id)", key: partner).status == 409)

        let corrected = try await app.coordinator("POST", "/v1/measurements", json: row(period: "2026-02", value: "11"))
        #expect(corrected.json["updated"] as? Int == 1)
        #expect(
            try app.count(
                "measurement_history",
                where: "action = 'updated' AND (old_value->>'value')::float = 10 AND (new_value->>'value')::float = 11")
                == 1)
        #expect(try await app.coordinator("DELETE", "/v1/locks/\(lockID)").status == 204)
        #expect(
            try await app.request("POST", "/v1/measurements", key: partner, json: row(period: "2026-02", value: "12"))
                .status == 200)
        try await app.stop()
    }

    @Test func retractionIsAuditedAndTheValueIsGone() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(try await app.coordinator("POST", "/v1/measurements", json: row(value: "8")).status == 200)
        let id = try #require(
            (try await app.coordinator("GET", "/v1/measurements").json["items"] as? [[String: Any]])?.first?["id"]
                as? Int)
        #expect(try await app.coordinator("DELETE", "/v1/measurements/\(id)").status == 204)
        #expect(try await app.coordinator("GET", "/v1/measurements/\(id)").status == 404)
        #expect(try await app.coordinator("DELETE", "/v1/measurements/\(id)").status == 404)
        let history = try await app.coordinator("GET", "/v1/measurements/\(id)/history")
        let entries = try #require(history.json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["action"] as? String } == ["created", "retracted"])
        #expect((entries[0]["new"] as? [String: Any])?["value"] as? Int == 8)
        #expect((entries[1]["old"] as? [String: Any])?["value"] as? Int == 8)
        try await app.stop()
    }

    @Test func aRetractedCorrectionKeepsItsWholeTrail() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let first = try await app.coordinator("POST", "/v1/measurements", json: row(value: "8"))
        _ = try await app.coordinator("POST", "/v1/measurements", json: row(value: "9"))
        _ = try await app.coordinator("POST", "/v1/measurements", json: row(value: "10"))
        let id = try #require(
            (try await app.coordinator("GET", "/v1/measurements").json["items"] as? [[String: Any]])?.first?["id"]
                as? Int)
        let before =
            try await app.coordinator("GET", "/v1/measurements/\(id)/history").json["entries"] as? [[String: Any]] ?? []
        #expect(try await app.coordinator("DELETE", "/v1/measurements/\(id)").status == 204)
        let after =
            try await app.coordinator("GET", "/v1/measurements/\(id)/history").json["entries"] as? [[String: Any]] ?? []
        #expect(after.map { $0["action"] as? String } == ["created", "updated", "updated", "retracted"])
        // The creation still shows the first value, its batch and its time, as it did before the retraction.
        #expect((after[0]["new"] as? [String: Any])?["value"] as? Int == 8)
        #expect(after[0]["batch_id"] as? String == first.json["batch_id"] as? String)
        #expect(after[0]["at"] as? String == before.first?["at"] as? String)
        #expect(after[0]["key"] as? String == before.first?["key"] as? String)
        #expect((after[3]["old"] as? [String: Any])?["value"] as? Int == 10)
        try await app.stop()
    }

    @Test func concurrentUploadsOfTheSameNewRowsStoreEachOnce() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let periods = (1...9).map { "2025-0\($0)" } + ["2025-10", "2025-11", "2025-12"]
        let groups = ["16-24", "25-44", "45+"]
        let bodies = (0..<4).map { copy in
            batch(
                periods.flatMap { period in
                    groups.map { row(period: period, value: "\(copy)", dimensions: #"{"age_group": "\#($0)"}"#) }
                })
        }
        let responses = try await withThrowingTaskGroup(of: RawHTTPClient.Response.self) { group in
            for body in bodies { group.addTask { try await app.coordinator("POST", "/v1/measurements", json: body) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.allSatisfy { $0.status == 200 }, "\(responses.map(\.text))")
        let rows = periods.count * groups.count
        // Each row is created by exactly one upload; every other upload updated it.
        #expect(responses.map { $0.json["created"] as? Int ?? -1 }.reduce(0, +) == rows)
        #expect(
            responses.map { ($0.json["created"] as? Int ?? 0) + ($0.json["updated"] as? Int ?? 0) }.allSatisfy {
                $0 == rows
            })
        #expect(try app.count("measurements") == rows)
        let trails = try await app.historyActions()
        #expect(trails.count == rows && trails.allSatisfy { $0 == ["created", "updated", "updated", "updated"] })
        try await app.stop()
    }

    @Test func ratioRowsAndPeriodFilters() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let ratio =
            #"{"partner": "literacy-now", "indicator": "pass_rate", "neighborhood": "southside", "period": "2026-Q1", "numerator": 18, "denominator": 24}"#
        #expect(try await app.coordinator("POST", "/v1/measurements", json: ratio).status == 200)
        #expect(
            try await app.coordinator(
                "POST", "/v1/measurements", json: batch([row(period: "2025-12"), row(period: "2026-01")])
            ).status == 200)
        let ranged = try await app.coordinator("GET", "/v1/measurements?indicator=esl_learners&from=2026-01&to=2026-12")
        #expect((ranged.json["items"] as? [[String: Any]])?.compactMap { $0["period"] as? String } == ["2026-01"])
        let stored = try await app.coordinator("GET", "/v1/measurements?indicator=pass_rate")
        let item = try #require((stored.json["items"] as? [[String: Any]])?.first)
        #expect(item["numerator"] as? Int == 18 && item["denominator"] as? Int == 24 && item["value"] is NSNull)
        try await app.stop()
    }
}
