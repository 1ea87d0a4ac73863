import Foundation
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

/// A request's work ends with its client and within its budget: the database is never left
/// working for nobody.
@Suite("Request budgets and cancellation")
struct RequestBudgetTests {
    typealias R = ReportTests

    /// Backends of the app's pool waiting on a lock, right now.
    static func waitingOnALock(_ observer: Connection) throws -> Int {
        try observer.query(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'backbone' AND wait_event_type = 'Lock'"
        )[0].decode(Int.self, at: 0)
    }

    @Test func aViewerReportAbandonedAfter100msFreesItsDatabaseConnectionWithin100msMore() async throws {
        let app = try await R.start()
        _ = try await app.release("literacy", "2026-01")
        let viewer = try await app.key(role: "viewer")
        // Another session holds the releases: the viewer's report waits on its statement.
        let blocker = try Connection(app.conninfo)
        try blocker.execute("BEGIN; LOCK TABLE releases IN ACCESS EXCLUSIVE MODE")
        let observer = try Connection(app.conninfo)
        let client = try RawHTTPClient(port: app.port)
        try await client.send(
            RawHTTPClient.requestBytes(
                "GET", "/v1/reports/indicators/esl_learners?by=neighborhood",
                headers: ["Authorization": "Bearer \(viewer)"]))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try Self.waitingOnALock(observer) == 1, "the report's statement is running")
        client.disconnect()
        let left = ContinuousClock.now
        var freed: Duration?
        while ContinuousClock.now - left < .seconds(2) {
            if try Self.waitingOnALock(observer) == 0, app.pool.statistics.inUse == 0 {
                freed = ContinuousClock.now - left
                break
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        try blocker.execute("ROLLBACK")
        #expect(freed != nil && freed! < .milliseconds(100), "freed after \(String(describing: freed))")
        // The pool lends a fresh connection next.
        #expect(
            try await app.request("GET", "/v1/reports/indicators/esl_learners?by=neighborhood", key: viewer).status
                == 200)
        try await app.stop()
    }

    @Test func aReportOverAHundredYearsIsRefusedBeforeAnyWork() async throws {
        let app = try await R.start()
        let viewer = try await app.key(role: "viewer")
        let path = "/v1/reports/indicators/esl_learners?by=period&period_type=year&from=1000-01&to=2025-12"
        let refused = try await app.request("GET", path, key: viewer)
        #expect(refused.status == 422)
        let errors = refused.json["errors"] as? [[String: Any]] ?? []
        #expect(errors.first?["code"] as? String == "range-too-long" && errors.first?["field"] as? String == "to")
        #expect((errors.first?["message"] as? String)?.contains("100 years") == true)
        let openEnded = try await app.request("GET", "/v1/reports/indicators/esl_learners?from=1900-01", key: viewer)
        #expect(openEnded.status == 422)
        #expect(
            try await app.request("GET", "/v1/reports/indicators/esl_learners?from=1926-01&to=2025-12", key: viewer)
                .status == 200)
        try await app.stop()
    }
}
