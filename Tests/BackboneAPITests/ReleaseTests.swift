import Aggregation
import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

/// Shared numbers are published, not streamed: partners and viewers read releases, the
/// coordinator reads live data (docs/privacy.md).
@Suite("Releases")
struct ReleaseTests {
    typealias R = ReportTests

    static func total(_ response: RawHTTPClient.Response) -> Double? {
        R.number((response.json["total"] as? [String: Any])?["value"])
    }

    @Test func partnersAndViewersReadOnlyWhatWasReleasedAndItDoesNotMoveUntilARevision() async throws {
        let app = try await R.start()
        let viewer = try await app.key(role: "viewer")
        let partner = try await app.key(role: "partner", partner: "p3")
        let path = "/v1/reports/indicators/esl_learners?by=period"
        // Nothing released: nothing shared, and not a zero.
        let before = try await app.request("GET", path, key: viewer)
        #expect(before.status == 200)
        #expect(R.rows(before).isEmpty && Self.total(before) == nil)
        #expect((before.json["releases"] as? [Any])?.isEmpty == true)
        #expect(try await app.coordinator("GET", path).json["releases"] is NSNull)

        let released = try await app.release("literacy", "2026-01")
        #expect(released.json["revision"] as? Int == 1)
        let coverage = released.json["indicators"] as? [[String: Any]] ?? []
        #expect(
            coverage.map { $0["indicator"] as? String } == ["esl_learners", "volunteers"],
            "a quarterly indicator is not in a month's release")
        let first = try await app.request("GET", path, key: viewer)
        // January only: February is not released.
        #expect(R.rows(first).map { $0["period"] as? String } == ["2026-01"])
        let releases = first.json["releases"] as? [[String: Any]] ?? []
        #expect(
            releases.count == 1 && releases.first?["period"] as? String == "2026-01"
                && releases.first?["revision"] as? Int == 1)

        // A partner cannot write into the released period, with or without the release's lock lifted from view.
        let write = try await app.request(
            "POST", "/v1/measurements", key: partner,
            json:
                #"{"indicator": "esl_learners", "neighborhood": "northside", "period": "2026-01", "value": 5, "dimensions": {"age_group": "45+"}}"#
        )
        #expect(write.status == 409 && write.json["code"] as? String == "period-locked")
        // The coordinator corrects: live at once for the coordinator, not for anyone else.
        let correction = try await app.coordinator(
            "POST", "/v1/measurements",
            json:
                #"{"partner": "p3", "indicator": "esl_learners", "neighborhood": "northside", "period": "2026-01", "value": 44, "dimensions": {"age_group": "45+"}}"#
        )
        #expect(correction.status == 200)
        #expect(
            Self.total(try await app.coordinator("GET", "/v1/reports/indicators/esl_learners?period=2026-01")) == 111)
        #expect(try await app.request("GET", path, key: viewer).body == first.body)
        #expect(try await app.request("GET", path, key: partner).body == first.body)

        // A revision publishes it; the report names it.
        let revision = try await app.release("literacy", "2026-01")
        #expect(revision.json["revision"] as? Int == 2)
        let revised = try await app.request("GET", path, key: viewer)
        #expect((revised.json["releases"] as? [[String: Any]])?.first?["revision"] as? Int == 2)
        let list = try await app.request("GET", "/v1/releases?agenda=literacy", key: viewer)
        #expect((list.json["items"] as? [[String: Any]])?.compactMap { $0["revision"] as? Int } == [2, 1])
        try await app.stop()
    }

    @Test func minAndMaxIndicatorsShowNoValueToPartnersOrViewers() async throws {
        let app = try await R.start()
        _ = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "longest_wait", "agenda": "literacy", "name": "Longest wait", "value_type": "count", "aggregation": "max", "period_type": "month"}"#
        )
        var rows: [String] = []
        for (partner, value) in zip(ReportTests.partners, [12, 40, 7, 19]) {
            rows.append(
                #"{"partner": "\#(partner)", "indicator": "longest_wait", "neighborhood": "northside", "period": "2026-01", "value": \#(value)}"#
            )
        }
        #expect(try await app.coordinator("POST", "/v1/measurements", json: batch(rows)).status == 200)
        try await app.release("literacy", "2026-01")
        let viewer = try await app.key(role: "viewer")
        let report = try await app.request("GET", "/v1/reports/indicators/longest_wait?by=neighborhood", key: viewer)
        // Four partners stand behind the cell, yet its maximum is one partner's 40.
        let cells = R.rows(report) + [report.json["total"] as? [String: Any] ?? [:]]
        #expect(cells.count == 2 && cells.allSatisfy { $0["suppressed"] as? Bool == true && $0["value"] is NSNull })
        #expect(Self.total(try await app.coordinator("GET", "/v1/reports/indicators/longest_wait")) == 40)
        try await app.stop()
    }

    @Test func aRatioDominatedByOneDenominatorIsWithheld() async throws {
        let app = try await R.start()
        // A school with 1,000 pupils beside three programs of 3: the rate is the school's.
        var rows: [String] = []
        for (partner, numerator, denominator) in [
            ("central-library", 770, 1000), ("literacy-now", 2, 3), ("p3", 2, 3), ("p4", 3, 3),
        ] {
            rows.append(
                #"{"partner": "\#(partner)", "indicator": "pass_rate", "neighborhood": "southside", "period": "2026-Q1", "numerator": \#(numerator), "denominator": \#(denominator)}"#
            )
        }
        #expect(try await app.coordinator("POST", "/v1/measurements", json: batch(rows)).status == 200)
        try await app.release("literacy", "2026-Q1")
        let report = try await app.request(
            "GET", "/v1/reports/indicators/pass_rate?by=neighborhood", key: try await app.key(role: "viewer"))
        let southside = try #require(R.rows(report).first { $0["neighborhood"] as? String == "southside" })
        #expect(southside["suppressed"] as? Bool == true)
        try await app.stop()
    }

    /// A release's withheld cells are cells of the tree it was cut on: once a neighborhood
    /// with data moves elsewhere in the tree, today's cells over that period are not the
    /// release's, and every one is withheld until a revision.
    @Test func aPeriodWhoseNeighborhoodsMovedIsWithheldUntilARevision() async throws {
        let app = try await R.start()
        // Southside gets three more partners in January, so that the city's total shows.
        var rows: [String] = []
        for (partner, value) in [("central-library", 30), ("literacy-now", 35), ("p3", 40)] {
            rows.append(
                #"{"partner": "\#(partner)", "indicator": "esl_learners", "neighborhood": "southside", "period": "2026-01", "value": \#(value), "dimensions": {"age_group": "25-44"}}"#
            )
        }
        #expect(try await app.coordinator("POST", "/v1/measurements", json: batch(rows)).status == 200)
        try await app.release("literacy", "2026-Q1")
        let viewer = try await app.key(role: "viewer")
        let path = "/v1/reports/indicators/esl_learners?by=neighborhood&level=0&period=2026-01"
        let first = try await app.request("GET", path, key: viewer)
        #expect(R.rows(first).contains { $0["suppressed"] as? Bool == false }, "\(first.text)")
        _ = try await app.coordinator(
            "POST", "/v1/neighborhoods", json: #"{"code": "east", "name": "East", "parent": "city"}"#)
        // A new neighborhood without data changes no cell of the period.
        #expect(R.rows(try await app.request("GET", path, key: viewer)).contains { $0["suppressed"] as? Bool == false })
        #expect(
            try await app.coordinator("PATCH", "/v1/neighborhoods/southside", json: #"{"parent": "east"}"#).status
                == 200)
        let moved = try await app.request("GET", path, key: viewer)
        #expect(!R.rows(moved).isEmpty && R.rows(moved).allSatisfy { $0["suppressed"] as? Bool == true })
        #expect((moved.json["total"] as? [String: Any])?["suppressed"] as? Bool == true)
        // A release of January on today's tree is what the period is cut from again.
        try await app.release("literacy", "2026-01")
        let revised = try await app.request("GET", path, key: viewer)
        #expect((revised.json["releases"] as? [[String: Any]])?.map { $0["period"] as? String } == ["2026-01"])
        try await app.stop()
    }

    @Test func metricsAreTheCoordinatorsOnly() async throws {
        let app = try await R.start()
        #expect(try await app.request("GET", "/metrics").status == 401)
        #expect(try await app.request("GET", "/metrics", key: try await app.key(role: "viewer")).status == 403)
        #expect(try await app.coordinator("GET", "/metrics").status == 200)
        try await app.stop()
    }

    @Test func aReleaseNeedsAnAgendaAndAPeriod() async throws {
        let app = try await R.start()
        let unknown = try await app.coordinator(
            "POST", "/v1/releases", json: #"{"agenda": "nowhere", "period": "2026-01"}"#)
        #expect(unknown.status == 422 && unknown.fieldErrors.map(\.field) == ["agenda"])
        let malformed = try await app.coordinator(
            "POST", "/v1/releases", json: #"{"agenda": "literacy", "period": "January"}"#)
        #expect(malformed.status == 422 && malformed.fieldErrors.map(\.code) == ["malformed-period"])
        let extra = try await app.coordinator(
            "POST", "/v1/releases", json: #"{"agenda": "literacy", "period": "2026-01", "force": true}"#)
        #expect(extra.status == 422 && extra.fieldErrors.map(\.code) == ["unknown-field"])
        try await app.stop()
    }

    /// A deployment whose coordinator does nothing still publishes: a period is released once
    /// it ended the agenda's `release_after_days` (else the deployment's) ago, once.
    @Test func periodsAreReleasedAutomaticallyOnceDueAndOnlyOnce() async throws {
        let app = try await R.start()
        _ = try await app.coordinator("PATCH", "/v1/agendas/literacy", json: #"{"release_after_days": 10}"#)
        let connection = try Connection(app.conninfo)
        let policy = SuppressionPolicy()
        // 2026-02 ends on 2026-03-01: due on 2026-03-11 with 10 days, not before.
        let early = try Releases.releaseDue(
            connection, defaultAfterDays: 45, policy: policy, today: Day(year: 2026, month: 3, day: 10))
        #expect(early.map(\.period) == ["2026-01"])
        let due = try Releases.releaseDue(
            connection, defaultAfterDays: 45, policy: policy, today: Day(year: 2026, month: 3, day: 11))
        #expect(due.map(\.period) == ["2026-02"])
        #expect(due.allSatisfy { $0.automatic })
        #expect(
            try Releases.releaseDue(
                connection, defaultAfterDays: 45, policy: policy, today: Day(year: 2026, month: 12, day: 31)
            ).map(\.period) == ["2026-Q1"])
        #expect(
            try Releases.releaseDue(
                connection, defaultAfterDays: 45, policy: policy, today: Day(year: 2027, month: 1, day: 1)
            ).isEmpty)
        let list = try await app.coordinator("GET", "/v1/releases?agenda=literacy")
        #expect((list.json["items"] as? [[String: Any]])?.count == 3)
        try await app.stop()
    }
}
