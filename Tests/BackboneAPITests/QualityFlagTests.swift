import Foundation
import TestSupport
import Testing

/// Outliers found at the door: warnings in the import summary (JSON, CSV, dry runs), the
/// flags they become on stored values, and each role's part in a flag's trail.
@Suite struct QualityFlagTests {
    /// Twelve months of a steady series for central-library (northside, age 25-44), ~100 each.
    static let history = [100, 104, 98, 101, 99, 103, 97, 102, 100, 105, 96, 101]

    static func start() async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let rows = history.enumerated().map { month, value in
            row(period: String(format: "2025-%02d", month + 1), value: String(value))
        }
        let stored = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        #expect(stored.status == 200, "\(stored.text)")
        #expect(stored.json["warning_count"] as? Int == 0, "a steady history warns of nothing: \(stored.text)")
        return app
    }

    static func warnings(_ response: RawHTTPClient.Response) -> [[String: Any]] {
        response.json["warnings"] as? [[String: Any]] ?? []
    }

    @Test func anOutlierWarnsInDryRunsJSONAndCSVAndBecomesAFlagOnceStored() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }

        let dryRun = try await app.coordinator(
            "POST", "/v1/measurements?dry_run=true", json: batch([row(period: "2026-01", value: "1000")]))
        #expect(dryRun.status == 200, "\(dryRun.text)")
        let warning = try #require(Self.warnings(dryRun).first)
        #expect(warning["row"] as? Int == 0)
        #expect(warning["field"] as? String == "value")
        #expect(warning["code"] as? String == "outlier")
        #expect((warning["score"] as? Double ?? 0) > 3)
        let expected = try #require(warning["expected"] as? [String: Any])
        #expect((expected["low"] as? Double ?? .infinity) <= 100 && (expected["high"] as? Double ?? 0) >= 100)
        #expect((expected["high"] as? Double ?? .infinity) < 1000)
        #expect(dryRun.json["warning_count"] as? Int == 1)
        #expect(try app.count("quality_flags") == 0, "a dry run stores no flag")

        let csv =
            "partner,indicator,neighborhood,period,value,dim.age_group\ncentral-library,esl_learners,northside,2026-01,1000,25-44\n"
        let uploaded = try await app.request(
            "POST", "/v1/measurements", key: app.coordinator, body: Data(csv.utf8), contentType: "text/csv")
        #expect(uploaded.status == 200, "\(uploaded.text)")
        let csvWarning = try #require(Self.warnings(uploaded).first)
        #expect(csvWarning["row"] as? Int == 1 && csvWarning["line"] as? Int == 2, "\(csvWarning)")
        #expect(try app.count("quality_flags", where: "kind = 'outlier' AND status = 'open'") == 1)

        // A normal next value warns of nothing.
        let normal = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(period: "2026-02", value: "103")]))
        #expect(normal.json["warning_count"] as? Int == 0, "\(normal.text)")
    }

    /// A report reads only what it groups by of the flags (their partners, their
    /// measurements' dimension values); each grouping still counts the flag in its own cell.
    @Test func eachGroupingCountsAFlagInTheCellOfItsMeasurement() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let stored = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(period: "2026-01", value: "1000"),
                row(period: "2026-01", value: "100", dimensions: #"{"age_group": "16-24"}"#),
            ]))
        #expect(stored.status == 200 && stored.json["warning_count"] as? Int == 1, "\(stored.text)")
        func flags(_ query: String) async throws -> [String: Int] {
            let report = try await app.coordinator("GET", "/v1/reports/indicators/esl_learners?\(query)&period=2026-01")
            #expect(report.status == 200, "\(report.text)")
            var counts: [String: Int] = [:]
            for row in report.json["rows"] as? [[String: Any]] ?? [] {
                let key =
                    (row["dimensions"] as? [String: String])?["age_group"] ?? row["partner"] as? String
                    ?? row["neighborhood"] as? String ?? "?"
                counts[key] = row["open_flags"] as? Int
            }
            #expect((report.json["total"] as? [String: Any])?["open_flags"] as? Int == 1, "\(report.text)")
            return counts
        }
        #expect(try await flags("by=dimension:age_group") == ["16-24": 0, "25-44": 1])
        #expect(try await flags("by=partner") == ["central-library": 1])
        #expect(try await flags("by=neighborhood") == ["northside": 1])
    }

    @Test func aFlagIsExplainedByItsPartnerConfirmedByTheCoordinatorAndSeenByNoOneElse() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "1000")]))
        let own = try await app.key(role: "partner", partner: "central-library")
        let other = try await app.key(role: "partner", partner: "literacy-now")
        let viewer = try await app.key(role: "viewer")

        let listed = try await app.request("GET", "/v1/flags", key: own)
        #expect(listed.status == 200)
        let items = listed.json["items"] as? [[String: Any]] ?? []
        #expect(items.count == 1 && listed.json["total"] as? Int == 1)
        let id = try #require(items.first?["id"] as? Int)
        #expect(items.first?["status"] as? String == "open")
        #expect((try await app.request("GET", "/v1/flags", key: other)).json["total"] as? Int == 0)
        #expect((try await app.request("GET", "/v1/flags/\(id)", key: other)).status == 404)
        #expect((try await app.request("GET", "/v1/flags", key: viewer)).status == 403)

        // The coordinator's report cells and scorecard count it; nobody else's do.
        let report = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=period&from=2026-01&to=2026-01")
        let cells = report.json["rows"] as? [[String: Any]] ?? []
        #expect(cells.first?["open_flags"] as? Int == 1, "\(report.text)")
        let scorecard = try await app.coordinator("GET", "/v1/reports/scorecard?agenda=literacy")
        let line = (scorecard.json["indicators"] as? [[String: Any]] ?? []).first {
            $0["indicator"] as? String == "esl_learners"
        }
        #expect(line?["open_flags"] as? Int == 1, "\(scorecard.text)")
        let partnerReport = try await app.request("GET", "/v1/reports/indicators/esl_learners?by=period", key: own)
        #expect(!partnerReport.text.contains("open_flags"))
        let partnerScorecard = try await app.request("GET", "/v1/reports/scorecard?agenda=literacy", key: own)
        #expect(!partnerScorecard.text.contains("open_flags"))

        let confirmByPartner = try await app.request(
            "PATCH", "/v1/flags/\(id)", key: own, json: #"{"status": "confirmed"}"#)
        #expect(confirmByPartner.status == 403)
        let explainWithoutNote = try await app.request(
            "PATCH", "/v1/flags/\(id)", key: own, json: #"{"status": "explained"}"#)
        #expect(explainWithoutNote.status == 422 && explainWithoutNote.fieldErrors.first?.field == "note")
        let explained = try await app.request(
            "PATCH", "/v1/flags/\(id)", key: own, json: #"{"note": "A new cohort started in January."}"#)
        #expect(explained.status == 200 && explained.json["status"] as? String == "explained", "\(explained.text)")
        let confirmed = try await app.coordinator(
            "PATCH", "/v1/flags/\(id)", json: #"{"status": "confirmed", "note": "Checked with the library."}"#)
        #expect(confirmed.json["status"] as? String == "confirmed")
        let trail = (confirmed.json["history"] as? [[String: Any]] ?? []).map { $0["status"] as? String ?? "?" }
        #expect(trail == ["open", "explained", "confirmed"])
        let reopenByPartner = try await app.request(
            "PATCH", "/v1/flags/\(id)", key: own, json: #"{"note": "more"}"#)
        #expect(reopenByPartner.status == 409)

        // Confirmed: the same value sent again opens no new flag, and the report counts none.
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "1000")]))
        #expect(try app.count("quality_flags") == 1)
        let after = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=period&from=2026-01&to=2026-01")
        #expect((after.json["rows"] as? [[String: Any]])?.first?["open_flags"] as? Int == 0)
    }

    @Test func aCorrectionOrARetractionClosesTheFlagByItself() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        _ = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([row(period: "2026-01", value: "1000"), row(period: "2026-02", value: "10")]))
        #expect(try app.count("quality_flags", where: "status = 'open'") == 2)

        let corrected = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "100")]))
        #expect(corrected.json["warning_count"] as? Int == 0, "\(corrected.text)")
        let flags = try await app.coordinator("GET", "/v1/flags?status=corrected")
        let closed = try #require((flags.json["items"] as? [[String: Any]])?.first)
        #expect(closed["period"] as? String == "2026-01")
        let last = (closed["history"] as? [[String: Any]])?.last
        #expect(last?["status"] as? String == "corrected" && last?["key"] is NSNull)

        // The corrected value slips again: a new flag stands, so the closed one cannot be reopened beside it.
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "900")]))
        let closedID = try #require(closed["id"] as? Int)
        let reopened = try await app.coordinator("PATCH", "/v1/flags/\(closedID)", json: #"{"status": "open"}"#)
        #expect(reopened.status == 409 && reopened.json["code"] as? String == "flag-standing", "\(reopened.text)")
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "100")]))

        let measurement =
            try #require(
                (try await app.coordinator("GET", "/v1/flags?status=open")).json["items"] as? [[String: Any]]
            ).first?["measurement"] as? Int
        #expect((try await app.coordinator("DELETE", "/v1/measurements/\(try #require(measurement))")).status == 204)
        #expect(try app.count("quality_flags", where: "status IN ('open', 'explained')") == 0)
    }

    @Test func theListingFiltersPagesCountsAndAnswersCSV() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        _ = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(period: "2026-01", value: "1000"), row(period: "2026-02", value: "10"),
                row(period: "2026-03", value: "2000"),
            ]))
        let first = try await app.coordinator("GET", "/v1/flags?limit=2&kind=outlier&agenda=literacy")
        #expect(first.json["total"] as? Int == 3)
        #expect((first.json["items"] as? [Any])?.count == 2)
        let cursor = try #require(first.json["next_cursor"] as? String)
        let second = try await app.coordinator("GET", "/v1/flags?limit=2&cursor=\(cursor)")
        #expect((second.json["items"] as? [Any])?.count == 1 && second.json["next_cursor"] is NSNull)
        let ranged = try await app.coordinator("GET", "/v1/flags?from=2026-02&to=2026-02")
        #expect(ranged.json["total"] as? Int == 1)
        #expect((try await app.coordinator("GET", "/v1/flags?status=closed")).status == 400)
        #expect((try await app.coordinator("GET", "/v1/flags?colour=red")).status == 400)

        let csv = try await app.request("GET", "/v1/flags?format=csv", key: app.coordinator)
        #expect(csv.status == 200 && csv.header("x-total-count") == "3")
        let lines = csv.text.split(whereSeparator: \.isNewline)
        #expect(lines.count == 4 && lines[0].hasPrefix("id,measurement,partner,indicator"), "\(csv.text)")
    }

    @Test func theDashboardShowsStandingFlagsToTheCoordinatorAndAPartnerItsOwn() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(period: "2026-01", value: "1000")]))
        let id = try #require(
            ((try await app.coordinator("GET", "/v1/flags")).json["items"] as? [[String: Any]])?.first?["id"] as? Int)
        let own = try await app.key(role: "partner", partner: "central-library")
        let other = try await app.key(role: "partner", partner: "literacy-now")
        let viewer = try await app.key(role: "viewer")

        let coordinatorPage = try await app.request("GET", "/dashboard?agenda=literacy", key: app.coordinator)
        #expect(coordinatorPage.text.contains("id=\"quality\""))
        #expect(coordinatorPage.text.contains("href=\"/dashboard/flags/\(id)\""), "the flag links to its page")
        let ownPage = try await app.request("GET", "/dashboard?agenda=literacy", key: own)
        #expect(ownPage.text.contains("href=\"/dashboard/flags/\(id)\""))
        let otherPage = try await app.request("GET", "/dashboard?agenda=literacy", key: other)
        #expect(otherPage.text.contains("No flag stands.") && !otherPage.text.contains("/dashboard/flags/"))
        let viewerPage = try await app.request("GET", "/dashboard?agenda=literacy", key: viewer)
        #expect(!viewerPage.text.contains("id=\"quality\""))

        let flagPage = try await app.request("GET", "/dashboard/flags/\(id)", key: own)
        #expect(flagPage.status == 200)
        #expect(flagPage.text.contains("1,000"), "the value flagged")
        #expect(flagPage.text.contains("<td>2025-12</td><td>101</td>"), "the series before it")
        #expect(flagPage.text.contains("<td>created</td>"), "the value's own history")
        #expect((try await app.request("GET", "/dashboard/flags/\(id)", key: other)).status == 404)
        #expect((try await app.request("GET", "/dashboard/flags/\(id)", key: viewer)).status == 403)
    }
}
