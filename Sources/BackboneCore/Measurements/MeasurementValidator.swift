import Aggregation
import DomainModel
import Postgres

/// A row that passed every check, in the form it is stored.
public struct ValidRow: Sendable {
    public var row: Int
    public var partner: String
    public var indicator: String
    public var neighborhood: String
    public var period: Period
    /// Canonical text of the dimension values (`{"age_group":"25-44"}`), `""` for none.
    public var dimensionKey: String
    public var value: Double?
    public var numerator: Double?
    public var denominator: Double?
    public var note: String?
}

/// Checks submitted rows against the registry and the rules of
/// docs/domain.md#measurements-and-series, reporting every problem of every row at once.
public struct MeasurementValidator: Sendable {
    public var context: IngestionContext
    /// The partner a partner key is bound to; `nil` for the coordinator.
    public var boundPartner: String?
    /// Whether period locks apply (they do not to the coordinator).
    public var respectsLocks: Bool
    public var today: Day

    public init(context: IngestionContext, boundPartner: String?, respectsLocks: Bool, today: Day = Period.today()) {
        self.context = context
        self.boundPartner = boundPartner
        self.respectsLocks = respectsLocks
        self.today = today
    }

    public func validate(_ rows: [SubmittedRow]) -> (valid: [ValidRow], issues: [DomainError.Issue]) {
        var valid: [ValidRow] = []
        var issues: [DomainError.Issue] = []
        var firstRowOfKey: [String: Int] = [:]
        // A batch spells the same few periods thousands of times: parse each spelling once.
        var periods: [String: Period?] = [:]
        valid.reserveCapacity(rows.count)
        for submitted in rows {
            var rowIssues: [DomainError.Issue] = []
            func fail(_ field: String, _ code: String, _ message: String) {
                rowIssues.append(DomainError.Issue(row: submitted.row, field: field, code: code, message: message))
            }
            let partner = submitted.partner ?? boundPartner
            if partner == nil, !submitted.unreadableFields.contains("partner") {
                fail("partner", "required", "is required when a coordinator key submits")
            }
            if let partner {
                switch context.partners[partner] {
                case nil: fail("partner", "unknown-partner", "no partner \(partner) exists")
                case false?: fail("partner", "inactive-partner", "partner \(partner) is deactivated")
                default: break
                }
            }
            var rules: Indicator?
            if let code = submitted.indicator {
                switch context.indicators[code] {
                case nil: fail("indicator", "unknown-indicator", "no indicator \(code) exists")
                case let found? where !found.active:
                    fail("indicator", "inactive-indicator", "indicator \(code) is deactivated")
                case let found?: rules = found
                }
            } else if !submitted.unreadableFields.contains("indicator") {
                fail("indicator", "required", "is required")
            }
            if let code = submitted.neighborhood {
                switch context.neighborhoods[code] {
                case nil: fail("neighborhood", "unknown-neighborhood", "no neighborhood \(code) exists")
                case false?: fail("neighborhood", "inactive-neighborhood", "neighborhood \(code) is deactivated")
                default: break
                }
            } else if !submitted.unreadableFields.contains("neighborhood") {
                fail("neighborhood", "required", "is required")
            }
            var period: Period?
            if let text = submitted.period {
                if let known = periods[text] {
                    period = known
                } else {
                    period = Period(text)
                    periods[text] = period
                }
                if period == nil {
                    fail(
                        "period", "malformed-period",
                        "\(text.debugDescription) is not a period; write 2026, 2026-Q3, 2026-10 or 2026-W05")
                } else if let rules, period!.type != rules.periodType {
                    fail(
                        "period", "period-type-mismatch",
                        "\(text) is a \(period!.type.rawValue) but \(rules.code) is reported by \(rules.periodType.rawValue)"
                    )
                } else if period!.start > today {
                    fail("period", "future-period", "\(text) has not started yet")
                }
            } else if !submitted.unreadableFields.contains("period") {
                fail("period", "required", "is required")
            }
            if let rules {
                checkValues(submitted, rules, fail)
            }
            let dimensionKey = rules.map { checkDimensions(submitted, $0, fail) } ?? ""
            if let rules, let period, respectsLocks,
                let lock = context.locks.first(where: { $0.covers(indicator: rules, period: period) })
            {
                let scope = lock.indicator.map { "indicator \($0)" } ?? "agenda \(lock.agenda ?? "")"
                fail(
                    "period", "period-locked",
                    "\(period) is locked for \(scope) (lock \(lock.period)\(lock.reason.map { ": \($0)" } ?? ""))")
            }
            if rowIssues.isEmpty, let partner, let rules, let period, let neighborhood = submitted.neighborhood {
                let key = [partner, rules.code, neighborhood, period.description, dimensionKey].joined(
                    separator: "\u{1F}")
                if let first = firstRowOfKey[key] {
                    fail(
                        "row", "duplicate-row",
                        "repeats row \(first): same partner, indicator, neighborhood, period and dimensions")
                } else {
                    firstRowOfKey[key] = submitted.row
                    valid.append(
                        ValidRow(
                            row: submitted.row, partner: partner, indicator: rules.code, neighborhood: neighborhood,
                            period: period, dimensionKey: dimensionKey, value: submitted.value,
                            numerator: submitted.numerator, denominator: submitted.denominator, note: submitted.note))
                }
            }
            issues += rowIssues
        }
        return (valid, issues)
    }

    private func checkValues(_ row: SubmittedRow, _ rules: Indicator, _ fail: (String, String, String) -> Void) {
        func finite(_ field: String, _ number: Double?) -> Double? {
            guard let number else { return nil }
            if let refusal = NumberRange.refusal(number) {
                fail(field, refusal.code, refusal.message)
                return nil
            }
            return number
        }
        if rules.aggregation == .ratio {
            if row.sentValueFields.contains("value") {
                fail(
                    "value", "value-not-allowed",
                    "\(rules.code) is a ratio: send numerator and denominator instead of value")
            }
            let numerator = finite("numerator", row.numerator)
            let denominator = finite("denominator", row.denominator)
            if row.numerator == nil, !row.sentValueFields.contains("numerator") {
                fail("numerator", "required", "is required for a ratio indicator")
            }
            if row.denominator == nil, !row.sentValueFields.contains("denominator") {
                fail("denominator", "required", "is required for a ratio indicator")
            }
            if let denominator, denominator <= 0 {
                fail("denominator", "non-positive-denominator", "must be greater than 0")
            }
            if let numerator, numerator < 0 { fail("numerator", "out-of-range", "must not be negative") }
            if let numerator, let denominator, denominator > 0, rules.valueType == .percent, numerator > denominator {
                fail(
                    "numerator", "numerator-exceeds-denominator",
                    "\(numerator) is more than its denominator \(denominator); a percentage cannot exceed 100")
            }
            return
        }
        for field in ["numerator", "denominator"] where row.sentValueFields.contains(field) {
            fail(field, "value-not-allowed", "\(rules.code) is not a ratio: send value only")
        }
        guard let value = finite("value", row.value) else {
            if row.value == nil, !row.sentValueFields.contains("value") { fail("value", "required", "is required") }
            return
        }
        if rules.valueType == .count {
            if value != value.rounded() {
                fail("value", "not-integer", "\(value) is not a whole number; \(rules.code) counts")
            }
            if value < 0 { fail("value", "out-of-range", "a count cannot be negative") }
        }
        if let min = rules.min, value < min {
            fail("value", "out-of-range", "\(value) is below the indicator's minimum \(min)")
        }
        if let max = rules.max, value > max {
            fail("value", "out-of-range", "\(value) is above the indicator's maximum \(max)")
        }
    }

    /// Checks the row's dimension values and returns their canonical key.
    private func checkDimensions(_ row: SubmittedRow, _ rules: Indicator, _ fail: (String, String, String) -> Void)
        -> String
    {
        for name in row.dimensions.keys.sorted() where !rules.dimensions.contains(where: { $0.name == name }) {
            let declared = rules.dimensions.map(\.name).joined(separator: ", ")
            fail(
                "dimensions.\(name)", "unknown-dimension",
                "\(rules.code) has no dimension \(name)" + (declared.isEmpty ? "" : " (it has \(declared))"))
        }
        var values: [String: String] = [:]
        for dimension in rules.dimensions {
            guard let value = row.dimensions[dimension.name] else {
                if row.unreadableFields.contains("dimensions.\(dimension.name)") { continue }
                fail(
                    "dimensions.\(dimension.name)", "missing-dimension",
                    "is required: one of \(dimension.values.joined(separator: ", "))")
                continue
            }
            // Strings compare by canonical equivalence ("K-5" with a Kelvin sign equals
            // "K-5"), the database by bytes: the registry's spelling is the one stored, so
            // one value is one series whichever way it was sent.
            guard let allowed = dimension.values.first(where: { $0 == value }) else {
                fail(
                    "dimensions.\(dimension.name)", "disallowed-dimension-value",
                    "\(value.debugDescription) is not one of \(dimension.values.joined(separator: ", "))")
                continue
            }
            values[dimension.name] = allowed
        }
        return DimensionValues.key(values)
    }
}
