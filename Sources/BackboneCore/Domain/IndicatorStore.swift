import Aggregation
import DomainModel
import Postgres

/// Reads indicators: one SELECT, one decoding, for the registry, ingestion and reports.
public enum IndicatorStore {
    static let columns = Query(
        unsafeSQL: """
            code, agenda_id, name, definition, unit, value_type, aggregation, period_type, direction,
            baseline_period, baseline_value, target_period, target_value, min_value, max_value, dimensions::text, active
            """)

    public static func find(_ connection: Connection, code: String) throws -> Indicator? {
        try select(connection, where: "code = \(code)").first
    }

    /// The indicators with these codes (those that exist), in code order; `lockingShared`
    /// keeps them from changing until the transaction ends (`FOR SHARE`).
    public static func list(_ connection: Connection, codes: [String], lockingShared: Bool = false) throws
        -> [Indicator]
    {
        try select(connection, where: "code = ANY(\(codes)::text[])", lock: lockingShared ? " FOR SHARE" : "")
    }

    /// The active indicators of an agenda, in code order.
    public static func list(_ connection: Connection, activeIn agenda: String) throws -> [Indicator] {
        try select(connection, where: "agenda_id = \(agenda) AND active")
    }

    static func select(_ connection: Connection, where condition: Query, limit: Int? = nil, lock: Query = "") throws
        -> [Indicator]
    {
        let limitClause: Query = limit.map { " LIMIT \($0)" as Query } ?? ""
        return try connection.query(
            "SELECT \(columns) FROM indicators WHERE \(condition) ORDER BY code\(limitClause)\(lock)"
        )
        .map(decode)
    }

    static func decode(_ row: Row) throws -> Indicator {
        let (code, agenda, name, definition, unit, valueType, aggregation, periodType, direction) =
            try row.decode((String, String, String, String?, String?, String, String, String, String).self)
        let (baselinePeriod, baselineValue, targetPeriod, targetValue, min, max, dimensions, active) =
            try (
                row.decode(String?.self, at: 9), row.decode(Double?.self, at: 10), row.decode(String?.self, at: 11),
                row.decode(Double?.self, at: 12), row.decode(Double?.self, at: 13), row.decode(Double?.self, at: 14),
                row.decode(String.self, at: 15), row.decode(Bool.self, at: 16)
            )
        return Indicator(
            code: code, agenda: agenda, name: name, definition: definition, unit: unit,
            valueType: try .stored(valueType, column: "indicators.value_type"),
            aggregation: try .stored(aggregation, column: "indicators.aggregation"),
            periodType: try .stored(periodType, column: "indicators.period_type"),
            direction: try .stored(direction, column: "indicators.direction"),
            baseline: try periodValue(baselinePeriod, baselineValue, column: "indicators.baseline_period"),
            target: try periodValue(targetPeriod, targetValue, column: "indicators.target_period"),
            min: min, max: max, dimensions: try Dimension.storedList(dimensions, column: "indicators.dimensions"),
            active: active)
    }

    static func periodValue(_ text: String?, _ value: Double?, column: String) throws -> Indicator.PeriodValue? {
        guard let text, let value else { return nil }
        guard let period = Period(text) else {
            throw DomainError.storedData(column: column, "holds \(text.debugDescription), which is not a period")
        }
        return Indicator.PeriodValue(period: period, value: value)
    }
}

extension Indicator: RegistryRecord {
    public var key: String { code }
    public static var resource: RegistryResource { .indicators }
    public static var columns: Query { IndicatorStore.columns }
    public static func decode(_ row: Row) throws -> Indicator { try IndicatorStore.decode(row) }

    /// A baseline or target must be a period of the indicator's type, what existing
    /// measurements mean (aggregation, period type, value type) cannot change under them,
    /// and an active validation rule must still be able to read it as it does.
    public static func check(_ connection: Connection, old: Indicator?, new: Indicator) throws {
        var issues: [DomainError.Issue] = []
        for (field, pair) in [("baseline", new.baseline), ("target", new.target)] {
            if let pair, pair.period.type != new.periodType {
                issues.append(
                    DomainError.Issue(
                        field: "\(field).period", code: "period-type-mismatch",
                        message:
                            "\(pair.period) is a \(pair.period.type.rawValue) but the indicator is reported by \(new.periodType.rawValue)"
                    ))
            }
        }
        if !issues.isEmpty { throw DomainError.invalid(issues) }
        guard let old else { return }
        if old.active != new.active || old.agenda != new.agenda || old.periodType != new.periodType
            || old.dimensions != new.dimensions
        {
            try RuleStore.refuseBreakingRules(connection, indicator: new)
        }
        let changed = [
            ("aggregation", old.aggregation != new.aggregation), ("period_type", old.periodType != new.periodType),
            ("value_type", old.valueType != new.valueType),
        ]
        for (field, differs) in changed where differs {
            let used = try connection.query(
                "SELECT EXISTS (SELECT 1 FROM measurements WHERE indicator_code = \(new.code))")
            if try used[0].decode(Bool.self, at: 0) {
                throw DomainError.conflict(
                    code: "indicator-in-use",
                    "Indicator \(new.code) already has measurements; changing its \(field) would change what they mean. Create a new indicator instead."
                )
            }
        }
    }
}
