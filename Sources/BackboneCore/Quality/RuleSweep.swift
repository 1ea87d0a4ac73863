import Aggregation
import DataQuality
import Postgres

/// A rule evaluated over values stored before it existed (or before it changed): every cell
/// with stored values of its indicators, in periods starting within a range, its flags
/// opened and closed as a submission would.
public enum RuleSweep {
    public struct Outcome: Sendable {
        public var rule: String
        public var cells: Int
        public var violations: Int
        /// The rule's flags standing once the sweep is done.
        public var standing: Int
    }

    public static func evaluate(_ connection: Connection, rule id: String, from: Period?, to: Period?, keyID: String)
        throws -> Outcome
    {
        let rule = try RuleStore.rule(connection, id: id).rule
        guard rule.active else {
            throw DomainError.conflict(code: "rule-inactive", "Rule \(id) is deleted; it evaluates nothing.")
        }
        let first = from?.start ?? Day(year: 1, month: 1, day: 1)
        let last = to?.end.adding(days: -1) ?? Day(year: 9999, month: 12, day: 31)
        // One period at a time, so that memory holds one period's values of the rule's
        // indicators however many periods the range spans.
        let starts = try connection.query(
            """
            SELECT DISTINCT period_start FROM measurements
            WHERE indicator_code = ANY(\(Array(rule.indicators))::text[]) AND period_start BETWEEN \(first) AND \(last)
            ORDER BY 1
            """
        ).map { try $0.decode(Day.self, at: 0) }
        var cells = 0
        var violations = 0
        for start in starts {
            let findings = try RuleCheck.findings(connection, rule: rule, startingIn: start...start)
            try FlagRecorder.record(connection, ruleFindings: findings, keyID: keyID)
            cells += findings.count
            violations += findings.filter { $0.message != nil }.count
        }
        let standing = try connection.query(
            "SELECT count(*) FROM quality_flags WHERE rule_id = \(id) AND status IN ('open', 'explained')")[0]
            .decode(Int.self, at: 0)
        return Outcome(rule: id, cells: cells, violations: violations, standing: standing)
    }
}
