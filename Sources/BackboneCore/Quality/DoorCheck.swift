import Aggregation
import DataQuality
import DomainModel
import Postgres

/// The plausibility checks of one batch, run after validation and before anything is
/// written (docs/quality.md): outliers against each series' history and the validation rules
/// reading the batch's indicators. What they find becomes the summary's warnings, errors for
/// `reject` rules, and flags on the values stored.
struct DoorCheck {
    var outliers: [OutlierCheck.Finding] = []
    var rules: [RuleCheck.Finding] = []

    static func run(
        _ connection: Connection, rows: [ValidRow], indicators: [String: Indicator], settings: QualitySettings
    ) throws -> DoorCheck {
        guard settings.enabled, !rows.isEmpty else { return DoorCheck() }
        let history = try SeriesHistory.load(connection, rows: rows, indicators: indicators)
        let outliers = OutlierCheck(scorer: settings.outliers).findings(
            in: rows, history: history, indicators: indicators)
        let rules = try RuleStore.activeRules(connection, readingAny: Set(rows.map(\.indicator)))
        return DoorCheck(outliers: outliers, rules: try RuleCheck.findings(connection, rows: rows, rules: rules))
    }

    /// The rows a violated `reject` rule reads, each an error `rule-violated`.
    var rejections: [DomainError.Issue] {
        rules.filter { $0.rule.action == .reject }.flatMap { finding -> [DomainError.Issue] in
            guard let message = finding.message else { return [] }
            return finding.rows.map {
                DomainError.Issue(row: $0.row, field: Self.field(of: $0), code: "rule-violated", message: message)
            }
        }
    }

    /// Leaves out the rows numbered in `rejected` (and the rule findings that were errors).
    func dropping(rows rejected: Set<Int>) -> DoorCheck {
        DoorCheck(
            outliers: outliers.filter { !rejected.contains($0.row.row) },
            rules: rules.compactMap { finding in
                guard finding.rule.action == .warn else { return finding.message == nil ? finding : nil }
                var kept = finding
                kept.rows = finding.rows.filter { !rejected.contains($0.row) }
                return kept.rows.isEmpty && finding.message != nil ? nil : kept
            })
    }

    /// Violated `warn` rules on each row they read, and outliers, in row order.
    var warnings: [QualityWarning] {
        var warnings = outliers.map {
            QualityWarning(
                row: $0.row.row, field: Self.field(of: $0.row), code: .outlier, message: $0.message, score: $0.score,
                expected: $0.expected)
        }
        for finding in rules where finding.rule.action == .warn {
            guard let message = finding.message else { continue }
            warnings += finding.rows.map {
                QualityWarning(
                    row: $0.row, field: Self.field(of: $0), code: .ruleViolated, message: message, rule: finding.rule.id
                )
            }
        }
        return warnings.sorted { ($0.row ?? -1, $0.code.rawValue) < ($1.row ?? -1, $1.code.rawValue) }
    }

    /// The field a warning on `row` names: its value, or a ratio's numerator.
    static func field(of row: ValidRow) -> String { row.value != nil ? "value" : "numerator" }
}
