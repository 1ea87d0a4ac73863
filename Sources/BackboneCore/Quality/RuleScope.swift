import Aggregation
import DataQuality
import DomainModel
import Postgres

/// The checks a rule's expressions pass against the registry (docs/quality.md, "Scope"):
/// every indicator exists (and is active, for an active rule), belongs to the rule's agenda
/// and filters only on its dimensions' listed values, and all share one period type. Each
/// problem is an issue naming the field (`left`, `right`) and the character where it is.
enum RuleScope {
    /// The rule the fields describe and its period type, or every problem at once (422).
    /// Locks the indicators it reads (`FOR SHARE`) so none is deactivated or changed
    /// under the rule before the write commits.
    static func check(_ connection: Connection, id: String, agenda: String, name: String, fields: RuleFields)
        throws -> (ValidationRule, PeriodType)
    {
        guard let leftText = fields.left, let rightText = fields.right, let `operator` = fields.operator else {
            preconditionFailure("a rule to check has both sides and an operator")
        }
        var issues: [DomainError.Issue] = []
        var sides: [(field: String, expression: RuleExpression)] = []
        for (field, text) in [("left", leftText), ("right", rightText)] {
            do {
                sides.append((field, try RuleExpression.parse(text)))
            } catch {
                issues.append(
                    .init(
                        field: field, code: "invalid-expression",
                        message: "\(error.message) (at character \(error.position))", position: error.position))
            }
        }
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        let active = fields.active ?? true
        let agendaExists = try connection.query("SELECT EXISTS (SELECT 1 FROM agendas WHERE id = \(agenda))")
        guard try agendaExists[0].decode(Bool.self, at: 0) else {
            throw DomainError.invalid(field: "agenda", code: "unknown-reference", "no agenda \(agenda) exists")
        }
        let codes = Set(sides.flatMap { $0.expression.indicators }).sorted()
        let indicators = Dictionary(
            uniqueKeysWithValues: try IndicatorStore.list(connection, codes: codes, lockingShared: true).map {
                ($0.code, $0)
            })
        var periodType: (type: PeriodType, indicator: String)?
        for (field, expression) in sides {
            for term in expression.terms {
                func fail(_ code: String, _ message: String, at position: Int) {
                    issues.append(
                        .init(
                            field: field, code: code, message: "\(message) (at character \(position))",
                            position: position))
                }
                guard let indicator = indicators[term.indicator] else {
                    fail("unknown-indicator", "there is no indicator \(term.indicator)", at: term.position)
                    continue
                }
                for problem in problems(of: term, reading: indicator, agenda: agenda, ruleActive: active) {
                    fail(problem.code, problem.message, at: problem.position)
                }
                if let settled = periodType, settled.type != indicator.periodType {
                    fail(
                        "period-type-mismatch",
                        "\(term.indicator) is reported by \(indicator.periodType.rawValue) but \(settled.indicator) by \(settled.type.rawValue); a rule's indicators share one period type",
                        at: term.position)
                } else if periodType == nil {
                    periodType = (indicator.periodType, indicator.code)
                }
            }
            if `operator`.isPair && expression.terms.isEmpty {
                issues.append(
                    .init(
                        field: field, code: "pair-needs-indicator",
                        message:
                            "\(`operator`.rawValue) compares which sides have data, so each side needs an indicator",
                        position: 1))
            }
        }
        guard let periodType else {
            issues.append(
                .init(
                    field: "left", code: "no-indicator", message: "a rule must read at least one indicator",
                    position: 1))
            throw DomainError.invalid(issues)
        }
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        let rule = ValidationRule(
            id: id, agenda: agenda, name: name, left: sides[0].expression, operator: `operator`,
            right: sides[1].expression, importance: fields.importance ?? .medium, action: fields.action ?? .warn,
            missing: fields.missing ?? .skipIfAnyMissing, active: active)
        return (rule, periodType.type)
    }

    /// What is wrong with a term reading `indicator` in a rule of `agenda`, with the position
    /// of each problem (its code, or the filter's dimension or value).
    static func problems(of term: RuleExpression.Term, reading indicator: Indicator, agenda: String, ruleActive: Bool)
        -> [(code: String, message: String, position: Int)]
    {
        var problems: [(code: String, message: String, position: Int)] = []
        if ruleActive && !indicator.active {
            problems.append(("inactive-indicator", "indicator \(indicator.code) is deactivated", term.position))
        }
        if indicator.agenda != agenda {
            problems.append(
                (
                    "other-agenda", "indicator \(indicator.code) belongs to agenda \(indicator.agenda), not \(agenda)",
                    term.position
                ))
        }
        for filter in term.filters {
            guard let dimension = indicator.dimensions.first(where: { $0.name == filter.dimension }) else {
                let declared = indicator.dimensions.map(\.name)
                problems.append(
                    (
                        "unknown-dimension",
                        "\(indicator.code) has no dimension \(filter.dimension)"
                            + (declared.isEmpty ? "" : " (it has \(declared.joined(separator: ", ")))"),
                        filter.dimensionPosition
                    ))
                continue
            }
            if !dimension.values.contains(filter.value) {
                problems.append(
                    (
                        "unknown-dimension-value",
                        "\(filter.value.debugDescription) is not a value of \(indicator.code)'s \(dimension.name) (\(dimension.values.joined(separator: ", ")))",
                        filter.valuePosition
                    ))
            }
        }
        return problems
    }
}
