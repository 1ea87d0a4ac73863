import Aggregation
import DataQuality
import DomainModel
import Foundation
import Postgres

/// Validation rules in the registry: create, read, list, update, deactivate, each change
/// kept in `validation_rule_history` in the same transaction; and the rules ingestion
/// evaluates.
public enum RuleStore {
    /// One page of rules and the cursor of the next page, if any.
    public struct Page: Sendable {
        public var items: [StoredRule]
        public var nextCursor: String?
    }

    /// One page of a rule's history and the cursor of the next page, if any.
    public struct HistoryPage: Sendable {
        public var items: [RuleChange]
        public var nextCursor: String?
    }

    private static let columns = Query(
        unsafeSQL: """
            id, agenda_id, name, left_side, operator, right_side, importance, action, missing, active, period_type,
            created_at, updated_at
            """)

    /// The same fields out of a history entry's `rule` (jsonb, written by `record`).
    private static let historyColumns = Query(
        unsafeSQL: """
            rule->>'id', rule->>'agenda', rule->>'name', rule->>'left', rule->>'operator', rule->>'right',
            rule->>'importance', rule->>'action', rule->>'missing', (rule->>'active')::boolean, rule->>'period_type',
            (rule->>'created_at')::timestamptz, (rule->>'updated_at')::timestamptz
            """)

    /// The rule `id` (404 if there is none).
    public static func rule(_ connection: Connection, id: String) throws -> StoredRule {
        guard let rule = try find(connection, id: id, locking: false) else { throw notFound(id) }
        return rule
    }

    /// The active rules that read any of these indicators, in id order: those a submission
    /// of them evaluates.
    public static func activeRules(_ connection: Connection, readingAny indicators: some Collection<String>) throws
        -> [ValidationRule]
    {
        try connection.query(
            "SELECT \(columns) FROM validation_rules WHERE active AND indicator_codes && \(Array(indicators))::text[] ORDER BY id"
        ).map { try decode($0).rule }
    }

    /// Rules in id order after `cursor`, optionally of one agenda and activity.
    public static func list(_ connection: Connection, agenda: String?, active: Bool?, cursor: String?, limit: Int)
        throws -> Page
    {
        var conditions: [Query] = []
        if let agenda { conditions.append("agenda_id = \(agenda)") }
        if let active { conditions.append("active = \(active)") }
        if let cursor { conditions.append("id > \(cursor)") }
        let whereClause: Query = conditions.isEmpty ? "" : " WHERE " + Query.joined(conditions, separator: " AND ")
        let rows = try connection.query(
            "SELECT \(columns) FROM validation_rules\(whereClause) ORDER BY id LIMIT \(limit + 1)")
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.id : nil)
    }

    /// Creates a rule; `fields` names at least id, agenda, name, left, operator and right.
    public static func create(_ connection: Connection, _ fields: RuleFields, keyID: String) throws -> StoredRule {
        let required: [(String, Any?)] = [
            ("id", fields.id), ("agenda", fields.agenda), ("name", fields.name), ("left", fields.left),
            ("operator", fields.operator), ("right", fields.right),
        ]
        let missing = required.filter { $0.1 == nil }.map {
            DomainError.Issue(field: $0.0, code: "required", message: "is required")
        }
        guard missing.isEmpty, let id = fields.id, let agenda = fields.agenda, let name = fields.name else {
            throw DomainError.invalid(missing)
        }
        let (rule, periodType) = try RuleScope.check(connection, id: id, agenda: agenda, name: name, fields: fields)
        do {
            try connection.query(
                """
                INSERT INTO validation_rules (id, agenda_id, name, left_side, operator, right_side, importance, action,
                    missing, indicator_codes, period_type, active)
                VALUES (\(id), \(agenda), \(name), \(fields.left), \(rule.operator.rawValue), \(fields.right),
                    \(rule.importance.rawValue), \(rule.action.rawValue), \(rule.missing.rawValue),
                    \(rule.indicators.sorted())::text[], \(periodType.rawValue), \(rule.active))
                """)
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw DomainError.conflict(
                code: "already-exists", "That rule already exists. Key (id)=(\(id)) already exists.")
        }
        return try record(connection, id: id, action: .created, keyID: keyID)
    }

    /// Sets the fields `fields` names (not id or agenda); the rule is checked again as a whole.
    public static func update(_ connection: Connection, id: String, _ fields: RuleFields, keyID: String) throws
        -> StoredRule
    {
        let immutable = [("id", fields.id), ("agenda", fields.agenda)].filter { $0.1 != nil }.map {
            DomainError.Issue(field: $0.0, code: "immutable", message: "cannot be changed")
        }
        guard immutable.isEmpty else { throw DomainError.invalid(immutable) }
        guard let old = try find(connection, id: id, locking: true) else { throw notFound(id) }
        var merged = RuleFields()
        merged.left = fields.left ?? old.leftText
        merged.right = fields.right ?? old.rightText
        merged.operator = fields.operator ?? old.rule.operator
        merged.importance = fields.importance ?? old.rule.importance
        merged.action = fields.action ?? old.rule.action
        merged.missing = fields.missing ?? old.rule.missing
        merged.active = fields.active ?? old.rule.active
        let name = fields.name ?? old.rule.name
        let (rule, periodType) = try RuleScope.check(
            connection, id: id, agenda: old.rule.agenda, name: name, fields: merged)
        guard rule != old.rule || merged.left != old.leftText || merged.right != old.rightText else { return old }
        try connection.query(
            """
            UPDATE validation_rules SET name = \(name), left_side = \(merged.left), operator = \(rule.operator.rawValue),
                right_side = \(merged.right), importance = \(rule.importance.rawValue), action = \(rule.action.rawValue),
                missing = \(rule.missing.rawValue), indicator_codes = \(rule.indicators.sorted())::text[],
                period_type = \(periodType.rawValue), active = \(rule.active), updated_at = now()
            WHERE id = \(id)
            """)
        return try record(connection, id: id, action: .updated, keyID: keyID)
    }

    /// Sets `active = false` (DELETE): the rule stays, with its history and flags, but is no
    /// longer evaluated. Deactivating an inactive rule changes nothing.
    public static func deactivate(_ connection: Connection, id: String, keyID: String) throws -> StoredRule {
        guard let old = try find(connection, id: id, locking: true) else { throw notFound(id) }
        guard old.rule.active else { return old }
        try connection.query("UPDATE validation_rules SET active = false, updated_at = now() WHERE id = \(id)")
        return try record(connection, id: id, action: .deleted, keyID: keyID)
    }

    /// The rule's changes, oldest first, after `cursor` (404 if there is no such rule).
    public static func history(_ connection: Connection, id: String, cursor: String?, limit: Int) throws
        -> HistoryPage
    {
        guard try find(connection, id: id, locking: false) != nil else { throw notFound(id) }
        let after = try cursor.map { text -> Int in
            guard let entry = Int(text) else {
                throw DomainError.malformed(code: "invalid-cursor", "the cursor is not valid")
            }
            return entry
        }
        let page = try ChangeHistory.page(
            connection, columns: historyColumns, from: "validation_rule_history", kind: "action",
            record: "rule_id = \(id)", after: after, limit: limit
        ) { entry in
            RuleChange(
                id: entry.id, action: try .stored(entry.kind, column: "validation_rule_history.action"),
                keyID: entry.keyID, at: entry.at, rule: try decode(entry.row))
        }
        return HistoryPage(items: page.items, nextCursor: page.nextCursor.map(String.init))
    }

    /// Refuses (409 `indicator-in-rules`) a change of `new` that would leave an active rule
    /// reading something the registry no longer allows: the indicator deactivated, moved to
    /// another agenda or period type, or a dimension value a rule filters on dropped.
    static func refuseBreakingRules(_ connection: Connection, indicator new: Indicator) throws {
        let rows = try connection.query(
            "SELECT \(columns) FROM validation_rules WHERE active AND indicator_codes && ARRAY[\(new.code)] ORDER BY id"
        )
        let broken = try rows.map(decode).filter { (stored: StoredRule) -> Bool in
            let terms = stored.rule.left.terms + stored.rule.right.terms
            return stored.periodType != new.periodType
                || terms.contains { term in
                    term.indicator == new.code
                        && !RuleScope.problems(of: term, reading: new, agenda: stored.rule.agenda, ruleActive: true)
                            .isEmpty
                }
        }
        guard !broken.isEmpty else { return }
        let listed = broken.prefix(20).map(\.id).joined(separator: ", ")
        let more = broken.count > 20 ? " and \(broken.count - 20) more" : ""
        throw DomainError.conflict(
            code: "indicator-in-rules",
            "Active validation rules read indicator \(new.code) as it is: \(listed)\(more). Change or deactivate those rules first."
        )
    }

    private static func find(_ connection: Connection, id: String, locking: Bool) throws -> StoredRule? {
        let lock: Query = locking ? " FOR UPDATE" : ""
        return try connection.query("SELECT \(columns) FROM validation_rules WHERE id = \(id)\(lock)").first.map(decode)
    }

    /// Writes the history entry for a change just made, and returns the rule after it.
    private static func record(_ connection: Connection, id: String, action: RuleChange.Action, keyID: String) throws
        -> StoredRule
    {
        try connection.query(
            """
            INSERT INTO validation_rule_history (rule_id, action, key_id, rule)
            SELECT id, \(action.rawValue), \(keyID), jsonb_build_object(
                'id', id, 'agenda', agenda_id, 'name', name, 'left', left_side, 'operator', operator,
                'right', right_side, 'importance', importance, 'action', action, 'missing', missing,
                'active', active, 'indicators', indicator_codes, 'period_type', period_type,
                'created_at', created_at, 'updated_at', updated_at)
            FROM validation_rules WHERE id = \(id)
            """)
        return try rule(connection, id: id)
    }

    private static func decode(_ row: Row) throws -> StoredRule {
        let (id, agenda, name, left, op, right, importance, action, missing) =
            try row.decode((String, String, String, String, String, String, String, String, String).self)
        let (active, periodType, createdAt, updatedAt) = try (
            row.decode(Bool.self, at: 9), row.decode(String.self, at: 10), row.decode(Date.self, at: 11),
            row.decode(Date.self, at: 12)
        )
        func expression(_ text: String, column: String) throws -> RuleExpression {
            do { return try RuleExpression.parse(text) } catch {
                throw DomainError.storedData(column: column, "holds \(text.prefix(60).debugDescription): \(error)")
            }
        }
        let rule = ValidationRule(
            id: id, agenda: agenda, name: name, left: try expression(left, column: "validation_rules.left_side"),
            operator: try .stored(op, column: "validation_rules.operator"),
            right: try expression(right, column: "validation_rules.right_side"),
            importance: try .stored(importance, column: "validation_rules.importance"),
            action: try .stored(action, column: "validation_rules.action"),
            missing: try .stored(missing, column: "validation_rules.missing"), active: active)
        return StoredRule(
            rule: rule, leftText: left, rightText: right,
            periodType: try .stored(periodType, column: "validation_rules.period_type"), createdAt: createdAt,
            updatedAt: updatedAt)
    }

    private static func notFound(_ id: String) -> DomainError { .notFound("No rule \(id).") }
}
