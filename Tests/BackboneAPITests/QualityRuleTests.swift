import Foundation
import TestSupport
import Testing

/// Validation rules at the door: a violation warns on every row of the cell the rule reads
/// (or, for a `reject` rule, refuses them under `mode=all` and `mode=partial`), opens a flag
/// on stored values, and a correction closes it; `evaluate` sweeps stored data.
@Suite struct QualityRuleTests {
    static func start(action: String = "warn") async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let completed = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "esl_completed", "agenda": "literacy", "name": "Completed", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#
        )
        #expect(completed.status == 201, "\(completed.text)")
        let rule = try await app.coordinator(
            "POST", "/v1/rules",
            json:
                #"{"id": "completed-within-enrolled", "agenda": "literacy", "name": "Completed within enrolled", "left": "esl_completed", "operator": "<=", "right": "esl_learners", "action": "\#(action)"}"#
        )
        #expect(rule.status == 201, "\(rule.text)")
        return app
    }

    static func completed(_ value: String, period: String = "2026-03") -> String {
        row(indicator: "esl_completed", period: period, value: value, dimensions: "{}")
    }

    @Test func aViolationWarnsOnEachRowTheRuleReadsAndOpensOneFlag() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        // 30 + 20 enrolled, 60 completed: every row of the cell the rule reads is warned.
        let stored = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(value: "30"), row(value: "20", dimensions: #"{"age_group": "16-24"}"#), Self.completed("60"),
            ]))
        #expect(stored.status == 200, "\(stored.text)")
        let warnings = stored.json["warnings"] as? [[String: Any]] ?? []
        #expect(warnings.map { $0["row"] as? Int } == [0, 1, 2], "\(stored.text)")
        #expect(
            warnings.allSatisfy {
                $0["code"] as? String == "rule-violated" && $0["rule"] as? String == "completed-within-enrolled"
            })
        let message = warnings.first?["message"] as? String ?? ""
        #expect(message.contains("60"), "the message gives the values")
        #expect(try app.count("quality_flags", where: "kind = 'rule' AND status = 'open'") == 1)

        // Another cell (another month) that holds warns of nothing.
        let fine = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([row(period: "2026-02", value: "30"), Self.completed("10", period: "2026-02")]))
        #expect(fine.json["warning_count"] as? Int == 0, "\(fine.text)")

        // Only the enrolment is corrected: the rule reads it, so the cell is evaluated again and the flag closes.
        let corrected = try await app.coordinator("POST", "/v1/measurements", json: batch([row(value: "45")]))
        #expect(corrected.json["warning_count"] as? Int == 0, "\(corrected.text)")
        #expect(try app.count("quality_flags", where: "kind = 'rule' AND status = 'corrected'") == 1)

        // Retracting the enrolments leaves the rule nothing to compare (skip_if_any_missing): no flag opens.
        #expect(try app.count("quality_flags", where: "status IN ('open', 'explained')") == 0)
    }

    @Test func aRejectRuleRefusesTheRowsItReadsUnderBothModesAndInADryRun() async throws {
        let app = try await Self.start(action: "reject")
        defer { Task { try await app.stop() } }
        let rows = batch([row(value: "30"), Self.completed("60"), row(period: "2026-02", value: "7")])

        let dryRun = try await app.coordinator("POST", "/v1/measurements?dry_run=true", json: rows)
        #expect(dryRun.status == 422, "\(dryRun.text)")
        #expect(
            dryRun.fieldErrors.map(\.row) == [0, 1] && dryRun.fieldErrors.allSatisfy { $0.code == "rule-violated" })

        let all = try await app.coordinator("POST", "/v1/measurements", json: rows)
        #expect(all.status == 422, "all or nothing: \(all.text)")
        #expect(try app.count("measurements") == 0)

        let partial = try await app.coordinator("POST", "/v1/measurements?mode=partial", json: rows)
        #expect(partial.status == 200, "\(partial.text)")
        #expect(partial.json["created"] as? Int == 1 && partial.json["rejected"] as? Int == 2)
        #expect(partial.fieldErrors.map(\.row) == [0, 1])
        #expect(try app.count("quality_flags") == 0, "a rejected row is not stored, so nothing is flagged")
    }

    @Test func evaluatingARuleFlagsDataStoredBeforeItExisted() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        _ = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "esl_completed", "agenda": "literacy", "name": "Completed", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#
        )
        _ = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch([
                row(value: "30"), Self.completed("60"), row(period: "2026-02", value: "30"),
                Self.completed("10", period: "2026-02"), row(period: "2025-12", value: "5"),
                Self.completed("9", period: "2025-12"),
            ]))
        let rule = try await app.coordinator(
            "POST", "/v1/rules",
            json:
                #"{"id": "late-rule", "agenda": "literacy", "name": "Completed within enrolled", "left": "esl_completed", "operator": "<=", "right": "esl_learners"}"#
        )
        #expect(rule.status == 201)
        let swept = try await app.coordinator("POST", "/v1/rules/late-rule/evaluate?from=2026-01&to=2026-12")
        #expect(swept.status == 200, "\(swept.text)")
        #expect(swept.json["cells"] as? Int == 2 && swept.json["violations"] as? Int == 1, "\(swept.text)")
        #expect(swept.json["standing_flags"] as? Int == 1)
        let again = try await app.coordinator("POST", "/v1/rules/late-rule/evaluate")
        #expect(again.json["violations"] as? Int == 2 && again.json["standing_flags"] as? Int == 2, "\(again.text)")
        let flags = try await app.coordinator("GET", "/v1/flags?kind=rule")
        #expect((flags.json["items"] as? [[String: Any]])?.allSatisfy { $0["rule"] as? String == "late-rule" } == true)

        #expect((try await app.coordinator("DELETE", "/v1/rules/late-rule")).status == 200)
        #expect((try await app.coordinator("POST", "/v1/rules/late-rule/evaluate")).status == 409)
        #expect((try await app.coordinator("POST", "/v1/rules/no-such-rule/evaluate")).status == 404)
    }

    @Test func warningsAreListedUpTo200WithTheirCount() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        // 34 months × 3 neighborhoods, each cell violating the rule on both of its rows: 204 warnings.
        var rows: [String] = []
        for month in 0..<34 {
            let period = String(format: "%04d-%02d", 2024 + month / 12, month % 12 + 1)
            for neighborhood in ["city", "northside", "southside"] {
                rows.append(row(neighborhood: neighborhood, period: period, value: "10"))
                rows.append(
                    row(
                        indicator: "esl_completed", neighborhood: neighborhood, period: period, value: "20",
                        dimensions: "{}"))
            }
        }
        let dryRun = try await app.coordinator("POST", "/v1/measurements?dry_run=true", json: batch(rows))
        #expect(dryRun.status == 200, "\(dryRun.text.prefix(500))")
        #expect((dryRun.json["warnings"] as? [Any])?.count == 200)
        #expect(dryRun.json["warning_count"] as? Int == 204 && dryRun.json["warnings_truncated"] as? Bool == true)
    }
}
