import Foundation
import JSON
import TestSupport
import Testing

/// The equity view compares like with like: a count, total or stock per 1,000 residents
/// against the community's target per 1,000 residents, never a neighborhood's count against a
/// community total; percentages compare directly; a line that cannot be ranked says why.
@Suite("Equity compares like with like")
struct EquityTests {
    static func lines(_ response: RawHTTPClient.Response) -> [[String: Any]] {
        response.json["neighborhoods"] as? [[String: Any]] ?? []
    }

    /// (neighborhood, gap rounded to 3 places, gap_reason) in rank order.
    static func ranking(_ response: RawHTTPClient.Response) -> [String] {
        lines(response).map { line in
            let gap = (line["gap"] as? NSNumber).map { String(format: "%.3f", $0.doubleValue) } ?? "null"
            return "\(line["neighborhood"] as? String ?? "?") \(gap) \(line["gap_reason"] as? String ?? "null")"
        }
    }

    /// ReportTests' data, esl_learners with a target of 600 a month for the whole city
    /// (100,000 residents: 6 per 1,000), and eastside, without a population, with 5 learners.
    static func start() async throws -> TestApp {
        let app = try await ReportTests.start()
        let target = try await app.coordinator(
            "PATCH", "/v1/indicators/esl_learners",
            json: #"{"baseline": {"period": "2025-12", "value": 50}, "target": {"period": "2026-12", "value": 600}}"#)
        #expect(target.status == 200, "\(target.text)")
        let eastside = try await app.coordinator(
            "POST", "/v1/neighborhoods", json: #"{"code": "eastside", "name": "Eastside", "parent": "city"}"#)
        #expect(eastside.status == 201, "\(eastside.text)")
        let stored = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(neighborhood: "eastside", period: "2026-01", value: "5", dimensions: #"{"age_group": "45+"}"#)
            ]))
        #expect(stored.status == 200, "\(stored.text)")
        return app
    }

    @Test func aSumIndicatorComparesRatesPer1000() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let equity = try await app.coordinator("GET", "/v1/reports/equity?indicator=esl_learners&period=2026-01")
        #expect(equity.status == 200, "\(equity.text)")
        #expect(equity.json["compared"] as? String == "rate_per_1000")
        #expect(ReportTests.number(equity.json["target_per_1000"]) == 6)
        #expect(ReportTests.number(equity.json["target"]) == 600)
        // southside: 7 of 9,000 is 0.778 per 1,000, 5.222 short; northside: 100 of 12,000 is
        // 8.333, past the target; eastside has no population, so no rate and no gap.
        #expect(
            Self.ranking(equity) == ["southside 5.222 null", "northside -2.333 null", "eastside null no-population"])
        let southside = try #require(Self.lines(equity).first)
        #expect(abs((ReportTests.number(southside["per_1000"]) ?? 0) - 7.0 / 9) < 1e-9)
        #expect(southside["value"] as? Int == 7 && southside["rank"] as? Int == 1)

        let csv = ReportTests.parseCSV(
            try await app.coordinator("GET", "/v1/reports/equity?indicator=esl_learners&period=2026-01&format=csv").text
        )
        #expect(
            Array(csv[0].prefix(7)) == ["section", "rank", "neighborhood", "value", "per_1000", "gap", "gap_reason"])
        #expect(csv[0].contains("compared") && csv[0].contains("target_per_1000"))
        #expect(csv.dropFirst().first?[6] == "" && csv.dropFirst(3).first?[6] == "no-population")
    }

    @Test func withoutTheCommunitysPopulationNoCountIsRanked() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let unknown = try await app.coordinator("PATCH", "/v1/neighborhoods/city", json: #"{"population": null}"#)
        #expect(unknown.status == 200, "\(unknown.text)")
        let equity = try await app.coordinator("GET", "/v1/reports/equity?indicator=esl_learners&period=2026-01")
        #expect(equity.json["compared"] as? String == "rate_per_1000")
        #expect(equity.json["target_per_1000"] is NSNull)
        #expect(
            Self.ranking(equity) == [
                "eastside null no-community-population", "northside null no-community-population",
                "southside null no-community-population",
            ])
        // No target at all: every line says so.
        let volunteers = try await app.coordinator("GET", "/v1/reports/equity?indicator=volunteers&period=2026-01")
        #expect(volunteers.status == 200 && volunteers.json["compared"] as? String == "rate_per_1000")
        #expect(Self.lines(volunteers).allSatisfy { $0["gap_reason"] as? String == "no-target" })
    }

    @Test func aPercentIndicatorComparesValuesAsBefore() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let equity = try await app.coordinator("GET", "/v1/reports/equity?indicator=pass_rate&period=2026-Q1")
        #expect(equity.status == 200, "\(equity.text)")
        #expect(equity.json["compared"] as? String == "value")
        #expect(equity.json["target_per_1000"] is NSNull)
        // northside: 100 of 102 passed, 98.04%, past the target of 90.
        #expect(Self.ranking(equity) == ["northside -8.039 null"])
    }

    @Test func aWithheldLineSaysOnlyThatItIsWithheld() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        _ = try await app.release("literacy", "2026-01")
        let viewer = try await app.key(role: "viewer")
        let equity = try await app.request(
            "GET", "/v1/reports/equity?indicator=esl_learners&period=2026-01", key: viewer)
        #expect(equity.status == 200, "\(equity.text)")
        // southside and eastside (one partner each) are withheld, and so is northside (else the
        // total would give them away): no rate, no gap, one reason, in code order.
        #expect(
            Self.ranking(equity) == ["eastside null withheld", "northside null withheld", "southside null withheld"])
        #expect(Self.lines(equity).allSatisfy { $0["per_1000"] is NSNull })
    }
}
