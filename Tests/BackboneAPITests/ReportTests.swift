import BackboneCore
import Foundation
import JSON
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

@Suite("Shared reports over HTTP")
struct ReportTests {
    static let partners = ["central-library", "literacy-now", "p3", "p4"]

    /// The seeded registry plus two more partners and a set of measurements worked out by hand.
    static func start() async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        for id in ["p3", "p4"] {
            _ = try await app.coordinator(
                "POST", "/v1/partners", json: #"{"id": "\#(id)", "name": "\#(id)", "kind": "school"}"#)
        }
        _ = try await app.coordinator(
            "PATCH", "/v1/indicators/pass_rate",
            json: #"{"baseline": {"period": "2025-Q4", "value": 50}, "target": {"period": "2026-Q4", "value": 90}}"#)
        var rows: [String] = []
        func add(_ partner: String, _ neighborhood: String, _ period: String, _ group: String, _ value: Int) {
            rows.append(
                #"{"partner": "\#(partner)", "indicator": "esl_learners", "neighborhood": "\#(neighborhood)", "period": "\#(period)", "value": \#(value), "dimensions": {"age_group": "\#(group)"}}"#
            )
        }
        // northside, 2026-01: three partners; southside, 2026-01: one partner.
        add("central-library", "northside", "2026-01", "16-24", 10)
        add("central-library", "northside", "2026-01", "25-44", 20)
        add("literacy-now", "northside", "2026-01", "25-44", 30)
        add("p3", "northside", "2026-01", "45+", 40)
        add("p4", "southside", "2026-01", "16-24", 7)
        // 2026-02: the same three northside partners report again.
        add("central-library", "northside", "2026-02", "16-24", 12)
        add("literacy-now", "northside", "2026-02", "25-44", 31)
        add("p3", "northside", "2026-02", "45+", 41)
        // pass_rate: 1/2 and 99/100 in northside, 2026-Q1.
        rows.append(
            #"{"partner": "central-library", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": 1, "denominator": 2}"#
        )
        rows.append(
            #"{"partner": "literacy-now", "indicator": "pass_rate", "neighborhood": "northside", "period": "2026-Q1", "numerator": 99, "denominator": 100}"#
        )
        let response = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        guard response.status == 200 else { throw RawHTTPClient.Failure(description: response.text) }
        return app
    }

    static func rows(_ response: RawHTTPClient.Response) -> [[String: Any]] {
        response.json["rows"] as? [[String: Any]] ?? []
    }

    static func number(_ value: Any?) -> Double? {
        (value as? NSNumber)?.doubleValue
    }

    @Test func sumsByNeighborhoodAndPeriodWithoutDoubleCounting() async throws {
        let app = try await Self.start()
        let response = try await app.coordinator("GET", "/v1/reports/indicators/esl_learners?by=neighborhood,period")
        #expect(response.status == 200, "\(response.text)")
        let cells = Self.rows(response).map {
            "\($0["neighborhood"]!) \($0["period"]!) \(Self.number($0["value"]) ?? -1)"
        }
        #expect(cells == ["northside 2026-01 100.0", "northside 2026-02 84.0", "southside 2026-01 7.0"])
        let total = try #require(response.json["total"] as? [String: Any])
        #expect(Self.number(total["value"]) == 191)
        #expect(total["measurements"] as? Int == 8)
        #expect(total["partners"] as? Int == 4)
        let february = try #require(Self.rows(response).first { $0["period"] as? String == "2026-02" })
        #expect(Self.number(february["change"]) == -16)
        // northside has 12,000 residents: 100 learners are 8.33 per 1,000.
        let january = try #require(Self.rows(response).first)
        #expect(abs((Self.number(january["per_1000"]) ?? 0) - 100.0 / 12) < 1e-9)
        // By age group the rows add up to the same total.
        let byAge = try await app.coordinator("GET", "/v1/reports/indicators/esl_learners?by=dimension:age_group")
        #expect(Self.rows(byAge).compactMap { Self.number($0["value"]) }.reduce(0, +) == 191)
        #expect((Self.rows(byAge).first?["dimensions"] as? [String: String])?["age_group"] == "16-24")
        try await app.stop()
    }

    @Test func ratiosAreSumsOfNumeratorsOverDenominators() async throws {
        let app = try await Self.start()
        let response = try await app.coordinator("GET", "/v1/reports/indicators/pass_rate?by=neighborhood")
        let northside = try #require(Self.rows(response).first)
        let value = try #require(Self.number(northside["value"]))
        #expect(abs(value - 100.0 / 102 * 100) < 1e-9)  // not (50 + 99) / 2 = 74.5
        // Progress from the baseline 50 toward the target 90.
        #expect(abs((Self.number(northside["progress"]) ?? 0) - (value - 50) / 40) < 1e-9)
        try await app.stop()
    }

    @Test func monthsRollIntoAQuarter() async throws {
        let app = try await Self.start()
        let response = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=period&period_type=quarter")
        #expect(Self.rows(response).map { "\($0["period"]!) \(Self.number($0["value"]) ?? -1)" } == ["2026-Q1 191.0"])
        let finer = try await app.coordinator("GET", "/v1/reports/indicators/pass_rate?period_type=month")
        #expect(finer.status == 422)
        try await app.stop()
    }

    @Test func treeLevelRollsNeighborhoodsUpOnce() async throws {
        let app = try await Self.start()
        let response = try await app.coordinator("GET", "/v1/reports/indicators/esl_learners?by=neighborhood&level=0")
        #expect(
            Self.rows(response).map { "\($0["neighborhood"]!) \(Self.number($0["value"]) ?? -1)" } == ["city 191.0"])
        let within = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=neighborhood&within=southside")
        #expect(Self.number((within.json["total"] as? [String: Any])?["value"]) == 7)
        try await app.stop()
    }

    @Test func aRegistryChangeIsInTheNextReport() async throws {
        let app = try await Self.start()
        try await app.waitUntilListening()
        let path = "/v1/reports/indicators/esl_learners?by=neighborhood,period"
        let before = try await app.coordinator("GET", path)
        _ = try await app.coordinator("GET", path)
        #expect(app.app.reportCache.count == 3)  // the indicator, the tree, the partner numbers
        #expect(before.json["name"] as? String == "ESL learners enrolled")
        #expect(abs((Self.number(Self.rows(before).first?["per_1000"]) ?? 0) - 100.0 / 12) < 1e-9)
        // The indicator renamed and northside's population doubled: the next report says so.
        _ = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners", json: #"{"name": "Adults learning English"}"#)
        _ = try await app.coordinator("PATCH", "/v1/neighborhoods/northside", json: #"{"population": 24000}"#)
        let after = try await app.coordinator("GET", path)
        #expect(after.json["name"] as? String == "Adults learning English")
        #expect(abs((Self.number(Self.rows(after).first?["per_1000"]) ?? 0) - 100.0 / 24) < 1e-9)
        // A partner added since the numbers were kept is known to the next report.
        _ = try await app.coordinator("POST", "/v1/partners", json: #"{"id": "p5", "name": "p5", "kind": "school"}"#)
        _ = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                #"{"partner": "p5", "indicator": "esl_learners", "neighborhood": "southside", "period": "2026-02", "value": 5, "dimensions": {"age_group": "45+"}}"#
            ]))
        let added = try await app.coordinator("GET", path)
        #expect(added.status == 200, "\(added.text)")
        #expect(Self.number((added.json["total"] as? [String: Any])?["value"]) == 196)
        try await app.stop()
    }

    /// A report asked again is given as rendered until anything changes: a write through
    /// this server, a write straight into the database (as another server process would),
    /// or a registry change; each is in the very next report.
    @Test func aKeptReportIsGivenOnlyWhileNothingChanged() async throws {
        let app = try await Self.start()
        try await app.waitUntilListening()
        let path = "/v1/reports/indicators/esl_learners?by=neighborhood&from=2026-01&to=2026-02"
        func total(_ response: RawHTTPClient.Response) -> Double? {
            Self.number((response.json["total"] as? [String: Any])?["value"])
        }
        // Asked until one is given as kept (the set-up's registry change notices arrive
        // asynchronously and each makes the next report computed).
        let first = try await app.coordinator("GET", path)
        try await app.askUntilKept(path)
        #expect(try await app.reportsGiven(source: "kept") == 1)
        #expect(app.app.renderedReports.count == 1)
        #expect(try await app.coordinator("GET", path).body == first.body)
        #expect(total(first) == 191)
        // Another caller's view and another representation are other reports.
        try await app.release("literacy", "2026-Q1")
        try await app.askUntilKept(path)
        let viewer = try await app.key(role: "viewer")
        let protected = try await app.request("GET", path, key: viewer)
        #expect(protected.body != first.body)
        #expect(Self.rows(protected).contains { $0["suppressed"] as? Bool == true })
        let csv = try await app.coordinator("GET", path + "&format=csv")
        #expect(csv.header("content-type")?.hasPrefix("text/csv") == true)

        // Written through the API.
        let computed = try await app.reportsGiven(source: "computed")
        _ = try await app.coordinator(
            "POST", "/v1/measurements",
            json: row(neighborhood: "southside", period: "2026-02", value: "3", dimensions: #"{"age_group": "45+"}"#))
        #expect(total(try await app.coordinator("GET", path)) == 194)
        #expect(try await app.reportsGiven(source: "computed") == computed + 1)
        // Written by someone else: no notification, the database's snapshot tells.
        let connection = try Connection(app.conninfo)
        try connection.execute("UPDATE measurements SET value = 13 WHERE value = 3 AND indicator_code = 'esl_learners'")
        #expect(total(try await app.coordinator("GET", path)) == 204)
        try connection.execute("DELETE FROM measurements WHERE value = 13 AND indicator_code = 'esl_learners'")
        #expect(total(try await app.coordinator("GET", path)) == 191)
        // A registry change: the indicator renamed.
        _ = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners", json: #"{"name": "Adults learning English"}"#)
        #expect(try await app.coordinator("GET", path).json["name"] as? String == "Adults learning English")
        // The viewer still gets the protected view, never the coordinator's kept one.
        let protectedAgain = try await app.request("GET", path, key: viewer)
        #expect(Self.rows(protectedAgain).contains { $0["suppressed"] as? Bool == true })
        try await app.stop()
    }

    @Test func aReportReflectsASubmissionAtOnce() async throws {
        let app = try await Self.start()
        _ = try await app.coordinator(
            "POST", "/v1/measurements",
            json: row(neighborhood: "southside", period: "2026-01", value: "3", dimensions: #"{"age_group": "45+"}"#))
        let response = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=neighborhood&period=2026-01")
        let southside = try #require(Self.rows(response).first { $0["neighborhood"] as? String == "southside" })
        #expect(Self.number(southside["value"]) == 10)
        // A single period reads raw rows, so medians are there.
        #expect(Self.number(southside["median"]) == 5)
        try await app.stop()
    }

    @Test func rangeReportsFromRollupsEqualSinglePeriodReportsFromRawRows() async throws {
        let app = try await Self.start()
        let range = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=neighborhood,period&from=2026-01&to=2026-02")
        for cell in Self.rows(range) {
            let period = try #require(cell["period"] as? String)
            let single = try await app.coordinator(
                "GET", "/v1/reports/indicators/esl_learners?by=neighborhood&period=\(period)")
            let same = try #require(
                Self.rows(single).first { $0["neighborhood"] as? String == cell["neighborhood"] as? String })
            for field in ["value", "measurements", "partners", "min", "max", "mean"] {
                #expect(Self.number(same[field]) == Self.number(cell[field]), "\(field) of \(period)")
            }
        }
        try await app.stop()
    }

    @Test func partnersAndViewersNeverSeeSmallCells() async throws {
        let app = try await Self.start()
        try await app.release("literacy", "2026-Q1")
        let viewer = try await app.key(role: "viewer")
        let partner = try await app.key(role: "partner", partner: "p4")
        for (key, own) in [(viewer, nil), (partner, "p4")] as [(String, String?)] {
            let response = try await app.request(
                "GET", "/v1/reports/indicators/esl_learners?by=neighborhood&period=2026-01", key: key)
            #expect(response.status == 200)
            let cells = Self.rows(response)
            let southside = try #require(cells.first { $0["neighborhood"] as? String == "southside" })
            #expect(southside["suppressed"] as? Bool == true)
            #expect(southside["value"] is NSNull)
            // No reason: "count below 5" would say it is at most 4.
            #expect(southside["suppression_reason"] == nil)
            // The total cannot give it away: total minus every visible cell is not the hidden value.
            let total = Self.number((response.json["total"] as? [String: Any])?["value"])
            let visible = cells.filter { $0["suppressed"] as? Bool == false }.compactMap { Self.number($0["value"]) }
                .reduce(0, +)
            if let total { #expect(total - visible != 7) }
            #expect(cells.filter { $0["suppressed"] as? Bool == true }.count != 1 || total == nil)
            // Other partners' rows are not listed at all (that a row exists is information);
            // a partner sees its own.
            let byPartner = try await app.request("GET", "/v1/reports/indicators/esl_learners?by=partner", key: key)
            #expect(Self.rows(byPartner).map { $0["partner"] as? String } == (own.map { [$0] } ?? []))
            #expect(Self.rows(byPartner).allSatisfy { Self.number($0["value"]) == 7 })
            // The minimum, maximum and median are single partners' figures.
            let cell = try #require(
                Self.rows(response).first { $0["suppressed"] as? Bool == false }
                    ?? (response.json["total"] as? [String: Any]))
            #expect(cell["min"] is NSNull && cell["max"] is NSNull && cell["median"] is NSNull)
        }
        // The coordinator sees every cell.
        let coordinator = try await app.coordinator(
            "GET", "/v1/reports/indicators/esl_learners?by=neighborhood&period=2026-01")
        #expect(Self.rows(coordinator).allSatisfy { $0["suppressed"] as? Bool == false })
        try await app.stop()
    }

    /// Parses RFC 4180 CSV (quotes, doubled quotes, CRLF).
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                row.append(field); field = ""
            } else if character == "\r\n" || character == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else {
                field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    @Test func csvOfEachReportParsesBackToTheSameNumbers() async throws {
        let app = try await Self.start()
        _ = try await app.coordinator("POST", "/v1/commitments", json: #"{"partner": "p4", "indicator": "pass_rate"}"#)
        let reports = [
            ("/v1/reports/indicators/esl_learners?by=neighborhood,period", "rows", ["neighborhood", "period"]),
            ("/v1/reports/equity?indicator=esl_learners&period=2026-01", "neighborhoods", ["neighborhood"]),
            ("/v1/reports/scorecard?agenda=literacy", "indicators", ["indicator"]),
            ("/v1/reports/completeness?agenda=literacy&period=2026-Q1", "entries", ["partner", "indicator"]),
        ]
        for (path, list, keys) in reports {
            let json = try await app.coordinator("GET", path)
            let csv = try await app.coordinator("GET", path + "&format=csv")
            #expect(json.status == 200 && csv.status == 200, "\(path)")
            #expect(csv.header("content-type")?.hasPrefix("text/csv") == true)
            let table = Self.parseCSV(csv.text)
            let header = try #require(table.first)
            // Foundation's JSON parser on Linux rounds some doubles; ours reads them exactly.
            guard case .array(let objects)? = try JSONValue.parse(json.body).objectValue?[list] else {
                Issue.record("\(path) has no \(list)")
                continue
            }
            for case .object(let object) in objects {
                let match = table.dropFirst().first { line in
                    keys.allSatisfy { key in
                        guard case .string(let text)? = object[key] else { return false }
                        return line[header.firstIndex(of: key)!] == text
                    }
                }
                let line = try #require(match, "\(path): no CSV row for \(object)")
                for (column, value) in object {
                    guard case .number(let number) = value, let index = header.firstIndex(of: column) else { continue }
                    #expect(Double(line[index]) == number, "\(path) \(column)")
                }
            }
        }
        try await app.stop()
    }
}
