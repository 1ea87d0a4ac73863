import Aggregation
import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// Reminders that catch up (docs/events.md#reminders): due and overdue at the right dates,
/// once per (partner, indicator, period, stage) however often and however many servers run
/// them, what a stopped server missed sent when it runs again, and none once reported.
@Suite("Reminders")
struct ReminderTests {
    /// The seeded registry, due 10 days after a period's last day, with two commitments made
    /// on 2026-01-01: central-library's monthly volunteers and literacy-now's quarterly pass rate.
    static func start() async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let due = try await app.coordinator("PATCH", "/v1/agendas/literacy", json: #"{"reporting_due_days": 10}"#)
        #expect(due.status == 200 && due.json["reporting_due_days"] as? Int == 10, "\(due.text)")
        for body in [
            #"{"partner": "central-library", "indicator": "volunteers"}"#,
            #"{"partner": "literacy-now", "indicator": "pass_rate", "neighborhood": "southside"}"#,
        ] {
            let made = try await app.coordinator("POST", "/v1/commitments", json: body)
            #expect(made.status == 201, "\(made.text)")
        }
        try Connection(app.conninfo).execute("UPDATE commitments SET created_at = '2026-01-01T12:00:00Z'")
        return app
    }

    static func day(_ text: String) -> Day { Day(text)! }

    static func run(_ app: TestApp, _ today: String) throws -> Reminders.Outcome {
        try Reminders.run(try Connection(app.conninfo), today: day(today), dueSoonDays: 7)
    }

    /// (type, partner, indicator, period) of the reminder events, in order.
    static func reminders(_ app: TestApp) throws -> [[String]] {
        try EventTests.events(app).filter { $0.type.hasPrefix("reminder.") }.map {
            [$0.type, $0.partner ?? "", $0.data["indicator"] as? String ?? "", $0.data["period"] as? String ?? ""]
        }
    }

    @Test func dueBeforeOverdueAfterOnceEachAndADigestADay() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        // 2026-01 was due 2026-02-10 (overdue); 2026-02 is due 2026-03-10 (within 7 days); 2026-Q1 not yet.
        let first = try Self.run(app, "2026-03-05")
        #expect(first == Reminders.Outcome(due: 1, overdue: 1, digests: 1), "\(first)")
        #expect(
            try Self.reminders(app) == [
                ["reminder.overdue", "central-library", "volunteers", "2026-01"],
                ["reminder.due", "central-library", "volunteers", "2026-02"],
            ])
        let events = try EventTests.events(app)
        let due = try #require(events.first { $0.type == "reminder.due" })
        #expect(due.agenda == "literacy" && due.data["due"] as? String == "2026-03-10")
        #expect(due.data["stage"] as? String == "due" && due.data["neighborhoods"] as? [NSNull] == [NSNull()])
        let digest = try #require(events.first { $0.type == "digest.overdue" })
        #expect(digest.partner == nil && digest.data["day"] as? String == "2026-03-05")
        #expect(digest.data["late_cells"] as? Int == 1 && digest.data["truncated"] as? Bool == false)
        let cells = digest.data["cells"] as? [[String: Any]] ?? []
        #expect(cells.map { $0["period"] as? String } == ["2026-01"])

        // The same day again, and the next day: nothing new but the next day's digest.
        #expect(try Self.run(app, "2026-03-05") == Reminders.Outcome())
        #expect(try Self.run(app, "2026-03-06") == Reminders.Outcome(due: 0, overdue: 0, digests: 1))
        #expect(try app.count("reminders_sent") == 2)
        #expect(try app.count("digests_sent") == 2)

        // The completeness report shows the due date and the reminders sent.
        let report = try await app.coordinator("GET", "/v1/reports/completeness?agenda=literacy&period=2026-02")
        #expect(report.status == 200, "\(report.text)")
        let entries = report.json["entries"] as? [[String: Any]] ?? []
        let library = try #require(entries.first { $0["partner"] as? String == "central-library" })
        #expect(library["due"] as? String == "2026-03-10")
        #expect((library["reminders"] as? [[String: Any]])?.map { $0["stage"] as? String } == ["due"])
        let csv = try await app.coordinator("GET", "/v1/reports/completeness?agenda=literacy&period=2026-02&format=csv")
        #expect(
            csv.status == 200 && csv.text.contains("2026-03-10") && csv.text.contains("reminders_0_stage"),
            "\(csv.text)")
        // The dashboard's grid says which reminder went out.
        let (_, cookie) = try await DashboardTests.signIn(app, key: app.coordinator)
        let dashboard = try await DashboardTests.get(app, "/dashboard?agenda=literacy", cookie: cookie)
        #expect(dashboard.status == 200 && dashboard.text.contains("<small class=\"reminded\">reminded (due) on "))
    }

    @Test func reportingDueDaysIsAnAgendaFieldWithADefaultAndBounds() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        let made = try await app.coordinator("POST", "/v1/agendas", json: #"{"id": "plain", "name": "Plain"}"#)
        #expect(made.status == 201 && made.json["reporting_due_days"] as? Int == 30, "\(made.text)")
        let set = try await app.coordinator(
            "POST", "/v1/agendas", json: #"{"id": "quick", "name": "Quick", "reporting_due_days": 0}"#)
        #expect(set.status == 201 && set.json["reporting_due_days"] as? Int == 0, "\(set.text)")
        for (body, code) in [
            (#"{"reporting_due_days": 367}"#, "constraint-violated"), (#"{"reporting_due_days": -1}"#, "out-of-range"),
            (#"{"reporting_due_days": null}"#, "required"), (#"{"reporting_due_days": "ten"}"#, "wrong-type"),
        ] {
            let refused = try await app.coordinator("PATCH", "/v1/agendas/plain", json: body)
            #expect(refused.status == 422, "\(body): \(refused.text)")
            #expect(refused.fieldErrors.map(\.field) == ["reporting_due_days"], "\(body): \(refused.text)")
            #expect(refused.fieldErrors.map(\.code) == [code], "\(body): \(refused.text)")
        }
        let read = try await app.coordinator("GET", "/v1/agendas/plain")
        #expect(read.json["reporting_due_days"] as? Int == 30)
    }

    @Test func twoServersAtOnceSendEachReminderOnce() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let conninfo = app.conninfo
        let outcomes = try await withThrowingTaskGroup(of: Reminders.Outcome.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try Reminders.run(try Connection(conninfo), today: Self.day("2026-05-20"), dueSoonDays: 7)
                }
            }
            var all: [Reminders.Outcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        // Overdue: volunteers 2026-01…2026-04 and pass rate 2026-Q1 (due 2026-04-10); one digest.
        #expect(outcomes.map(\.overdue).reduce(0, +) == 5, "\(outcomes)")
        #expect(outcomes.map(\.due).reduce(0, +) == 0 && outcomes.map(\.digests).reduce(0, +) == 1)
        #expect(try app.count("reminders_sent") == 5)
        #expect(try app.count("digests_sent") == 1)
        // No event of a lost claim survives.
        #expect(try app.count("outbox_events") == 6)
        let pass = try Self.reminders(app).filter { $0[1] == "literacy-now" }
        #expect(pass == [["reminder.overdue", "literacy-now", "pass_rate", "2026-Q1"]])
    }

    @Test func aServerThatWasDownCatchesUpAndAPartnerThatReportedGetsNone() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        #expect(try Self.run(app, "2026-02-05") == Reminders.Outcome(due: 1, overdue: 0, digests: 0))
        // Then central-library reports March, and the server is down until June.
        let partner = try await app.key(role: "partner", partner: "central-library")
        let march = try await app.request(
            "POST", "/v1/measurements", key: partner,
            json: batch([row(indicator: "volunteers", period: "2026-03", value: "4", dimensions: "{}")]))
        #expect(march.status == 200, "\(march.text)")
        let later = try Self.run(app, "2026-06-05")
        // volunteers 2026-01 (overdue; its due reminder went out), 2026-02 and 2026-04 overdue,
        // 2026-05 due on 2026-06-10; pass rate 2026-Q1 overdue; March reported: nothing.
        #expect(later == Reminders.Outcome(due: 1, overdue: 4, digests: 1), "\(later)")
        let sent = try Self.reminders(app)
        #expect(!sent.contains { $0[3] == "2026-03" }, "\(sent)")
        #expect(sent.filter { $0[0] == "reminder.due" }.map { $0[3] } == ["2026-01", "2026-05"])
        // Down for over a year: periods due within the last 400 days are reminded (2026-07,
        // due 2026-08-10), older ones not (2026-06, due 2026-07-10, 418 days before).
        let far = try Self.run(app, "2027-09-01")
        #expect(far.overdue > 0)
        let all = try Self.reminders(app)
        #expect(all.contains { $0[3] == "2026-07" } && !all.contains { $0[3] == "2026-06" }, "\(all)")
    }
}
