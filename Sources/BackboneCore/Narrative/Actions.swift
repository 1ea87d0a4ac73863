import Aggregation
import Foundation
import Postgres

/// The action plan: actions per indicator, created by the coordinator, their status and
/// note kept up by the owning partner; each change written to `action_history` in the same
/// transaction (docs/actions.md).
///
/// The functions that change an action take the caller as a `KeyHolder`: a partner key is
/// held to its own partner's actions and to `status` and `note`; a key without a partner is
/// the coordinator's (the routes refuse viewer keys before calling them).
public enum Actions {
    /// What a listing selects; every field optional.
    public struct Filter: Sendable {
        public var agenda: String?
        public var indicator: String?
        public var owner: String?
        public var status: ActionStatus?
        /// Only overdue actions (`true`) or only those that are not (`false`), as of `today`.
        public var overdue: Bool?
        public var today: Day

        public init(today: Day) { self.today = today }
    }

    /// One page of actions (or of an action's changes) and the cursor of the next, if any.
    public struct Page<Item: Sendable>: Sendable {
        public var items: [Item]
        public var nextCursor: Int?
    }

    private static let columns = Query(
        unsafeSQL: "id, indicator_code, title, owner_partner_id, due, status, note, created_at, updated_at")

    /// The same fields out of a history entry's `action` (jsonb, written by `record`).
    private static let historyColumns = Query(
        unsafeSQL: """
            (action->>'id')::bigint, action->>'indicator', action->>'title', action->>'owner', (action->>'due')::date,
            action->>'status', action->>'note', (action->>'created_at')::timestamptz, (action->>'updated_at')::timestamptz
            """)

    /// Every action of `indicator` (any status), by due date then id.
    public static func of(_ connection: Connection, indicator: String) throws -> [PlannedAction] {
        try connection.query(
            "SELECT \(columns) FROM actions WHERE indicator_code = \(indicator) ORDER BY due, id"
        ).map(decode)
    }

    /// The action `id` (404 if there is none).
    public static func action(_ connection: Connection, id: Int) throws -> PlannedAction {
        guard let action = try find(connection, id: id, locking: false) else { throw notFound(id) }
        return action
    }

    /// Actions in id order after `cursor`, as `filter` selects.
    public static func list(_ connection: Connection, filter: Filter, after cursor: Int?, limit: Int) throws
        -> Page<PlannedAction>
    {
        var conditions: [Query] = ["TRUE"]
        if let agenda = filter.agenda {
            conditions.append("indicator_code IN (SELECT code FROM indicators WHERE agenda_id = \(agenda))")
        }
        if let indicator = filter.indicator { conditions.append("indicator_code = \(indicator)") }
        if let owner = filter.owner { conditions.append("owner_partner_id = \(owner)") }
        if let status = filter.status { conditions.append("status = \(status.rawValue)") }
        if let overdue = filter.overdue {
            let isOverdue: Query = "(due < \(filter.today) AND status IN ('planned', 'in_progress'))"
            conditions.append(overdue ? isOverdue : "NOT \(isOverdue)")
        }
        if let cursor { conditions.append("id > \(cursor)") }
        let rows = try connection.query(
            "SELECT \(columns) FROM actions WHERE \(Query.joined(conditions, separator: " AND ")) ORDER BY id LIMIT \(limit + 1)"
        )
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.id : nil)
    }

    /// Creates an action; `fields` names at least indicator, title, owner and due (status
    /// defaults to planned, note to empty).
    public static func create(_ connection: Connection, _ fields: ActionFields, keyID: String) throws
        -> PlannedAction
    {
        let required: [(String, Bool)] = [
            ("indicator", fields.indicator == nil), ("title", fields.title == nil), ("owner", fields.owner == nil),
            ("due", fields.due == nil),
        ]
        let missing = required.filter(\.1).map {
            DomainError.Issue(field: $0.0, code: "required", message: "is required")
        }
        guard missing.isEmpty, let indicator = fields.indicator, let title = fields.title, let owner = fields.owner,
            let due = fields.due
        else { throw DomainError.invalid(missing) }
        try checkReferences(connection, indicator: indicator, owner: owner)
        let status = fields.status ?? .planned
        let id = try connection.query(
            """
            INSERT INTO actions (indicator_code, title, owner_partner_id, due, status, note)
            VALUES (\(indicator), \(title), \(owner), \(due), \(status.rawValue), \(fields.note ?? ""))
            RETURNING id
            """)[0].decode(Int.self, at: 0)
        return try record(connection, id: id, change: .created, keyID: keyID)
    }

    /// Sets the fields `fields` names. The coordinator may change any; the owning partner
    /// only `status` and `note` (403 otherwise), and another partner nothing (403: the
    /// action plan is shared, so the action is no secret). Changing nothing records nothing.
    public static func update(_ connection: Connection, id: Int, _ fields: ActionFields, by editor: KeyHolder)
        throws -> PlannedAction
    {
        guard let old = try find(connection, id: id, locking: true) else { throw notFound(id) }
        if let partner = editor.partner {
            guard partner == old.owner else {
                throw DomainError.forbidden(
                    "Action \(id) is owned by \(old.owner); a partner key updates only its own partner's actions.")
            }
            let refused = fields.coordinatorOnlyFields
            guard refused.isEmpty else {
                throw DomainError.forbidden(
                    "A partner key changes an action's status and note only; \(refused.joined(separator: ", ")) is the coordinator's to change."
                )
            }
        }
        try checkReferences(connection, indicator: fields.indicator, owner: fields.owner)
        var new = old
        new.indicator = fields.indicator ?? old.indicator
        new.title = fields.title ?? old.title
        new.owner = fields.owner ?? old.owner
        new.due = fields.due ?? old.due
        new.status = fields.status ?? old.status
        new.note = fields.note ?? old.note
        guard new != old else { return old }
        try connection.query(
            """
            UPDATE actions SET indicator_code = \(new.indicator), title = \(new.title), owner_partner_id = \(new.owner),
                due = \(new.due), status = \(new.status.rawValue), note = \(new.note), updated_at = now()
            WHERE id = \(id)
            """)
        return try record(connection, id: id, change: .updated, keyID: editor.keyID)
    }

    /// The action's changes, oldest first, after `cursor` (404 if there is no such action).
    public static func history(_ connection: Connection, id: Int, after cursor: Int?, limit: Int) throws
        -> Page<ActionChange>
    {
        guard try find(connection, id: id, locking: false) != nil else { throw notFound(id) }
        let page = try ChangeHistory.page(
            connection, columns: historyColumns, from: "action_history", kind: "change", record: "action_id = \(id)",
            after: cursor, limit: limit
        ) { entry in
            ActionChange(
                id: entry.id, change: try .stored(entry.kind, column: "action_history.change"), keyID: entry.keyID,
                at: entry.at, action: try decode(entry.row))
        }
        return Page(items: page.items, nextCursor: page.nextCursor)
    }

    /// Refuses (422 naming the field) an indicator or owner that does not exist or is deactivated.
    private static func checkReferences(_ connection: Connection, indicator: String?, owner: String?) throws {
        var issues: [DomainError.Issue] = []
        if let indicator {
            let active = try connection.query("SELECT active FROM indicators WHERE code = \(indicator)").first
            issues += referenceIssues(
                field: "indicator", naming: "indicator", indicator, active: try active?.decode(Bool.self, at: 0))
        }
        if let owner {
            let active = try connection.query("SELECT active FROM partners WHERE id = \(owner)").first
            issues += referenceIssues(
                field: "owner", naming: "partner", owner, active: try active?.decode(Bool.self, at: 0))
        }
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
    }

    /// `unknown-…` when there is no such `kind` (`active` is nil), `inactive-…` when it is deactivated.
    private static func referenceIssues(field: String, naming kind: String, _ value: String, active: Bool?)
        -> [DomainError.Issue]
    {
        switch active {
        case nil: return [.init(field: field, code: "unknown-\(kind)", message: "no \(kind) \(value) exists")]
        case false?: return [.init(field: field, code: "inactive-\(kind)", message: "\(kind) \(value) is deactivated")]
        case true?: return []
        }
    }

    private static func find(_ connection: Connection, id: Int, locking: Bool) throws -> PlannedAction? {
        let lock: Query = locking ? " FOR UPDATE" : ""
        return try connection.query("SELECT \(columns) FROM actions WHERE id = \(id)\(lock)").first.map(decode)
    }

    /// Writes the history entry for a change just made, and returns the action after it.
    private static func record(_ connection: Connection, id: Int, change: ActionChange.Change, keyID: String)
        throws -> PlannedAction
    {
        try connection.query(
            """
            INSERT INTO action_history (action_id, change, key_id, action)
            SELECT id, \(change.rawValue), \(keyID), jsonb_build_object(
                'id', id, 'indicator', indicator_code, 'title', title, 'owner', owner_partner_id, 'due', due,
                'status', status, 'note', note, 'created_at', created_at, 'updated_at', updated_at)
            FROM actions WHERE id = \(id)
            """)
        return try action(connection, id: id)
    }

    private static func decode(_ row: Row) throws -> PlannedAction {
        let (id, indicator, title, owner, due, status, note) =
            try row.decode((Int, String, String, String, Day, String, String).self)
        return PlannedAction(
            id: id, indicator: indicator, title: title, owner: owner, due: due,
            status: try .stored(status, column: "actions.status"), note: note,
            createdAt: try row.decode(Date.self, at: 7), updatedAt: try row.decode(Date.self, at: 8))
    }

    private static func notFound(_ id: Int) -> DomainError { .notFound("No action \(id).") }
}
