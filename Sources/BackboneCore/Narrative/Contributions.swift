import Aggregation
import Foundation
import Postgres

/// Partners' contributions: a partner writes, changes and withdraws its own; the coordinator
/// quotes them. Who reads which is `Reader`'s business (docs/stories.md#contributions).
public enum Contributions {
    /// Who is reading, which decides what exists for them.
    public enum Reader: Sendable {
        /// Reads every contribution.
        case coordinator
        /// Reads its own and the quoted ones of others.
        case partner(String)
        /// Reads the quoted ones.
        case viewer

        /// What this reader may see, as a condition on `contributions`.
        var visible: Query {
            switch self {
            case .coordinator: return "TRUE"
            case .partner(let id): return "(partner_id = \(id) OR quoted)"
            case .viewer: return "quoted"
            }
        }
    }

    /// What a listing selects; every field optional.
    public struct Filter: Sendable {
        public var indicator: String?
        public var period: Period?
        public var partner: String?
        public var quoted: Bool?

        public init() {}
    }

    /// One page, oldest first, and the cursor of the next page, if any.
    public struct Page: Sendable {
        public var items: [Contribution]
        public var nextCursor: Int?
    }

    private static let columns = Query(
        unsafeSQL: "id, indicator_code, period, partner_id, body, quoted, created_at, updated_at")

    /// The quoted contributions to `indicator` for `period`, oldest first.
    public static func quoted(_ connection: Connection, indicator: String, period: Period) throws -> [Contribution] {
        try quoted(connection, indicator: indicator, from: period.start, until: period.end)
    }

    /// The quoted contributions to `indicator` for the periods starting in `from..<until`,
    /// by period, then oldest first (a quarter's packet quotes its months).
    public static func quoted(_ connection: Connection, indicator: String, from: Day, until: Day) throws
        -> [Contribution]
    {
        try connection.query(
            """
            SELECT \(columns) FROM contributions
            WHERE indicator_code = \(indicator) AND period_start >= \(from) AND period_start < \(until) AND quoted
            ORDER BY period_start, id
            """
        ).map(decode)
    }

    /// Stores what `author`'s partner writes about `indicator` for `period`: an active
    /// indicator, a period of its type that has started, and text that is not blank.
    public static func create(
        _ connection: Connection, indicator code: String, period: Period, text: String, by author: KeyHolder,
        today: Day = Period.today()
    ) throws -> Contribution {
        guard let partner = author.partner else {
            throw DomainError.forbidden("Contributions are written with a partner key.")
        }
        let indicator = try NarrativeScope.indicator(connection, code, writing: true, inPath: false)
        try NarrativeScope.check(period, of: indicator)
        guard period.start <= today else {
            throw DomainError.invalid(field: "period", code: "future-period", "\(period) has not started yet")
        }
        let active = try connection.query("SELECT active FROM partners WHERE id = \(partner)").first?.decode(
            Bool.self, at: 0)
        guard active == true else {
            throw DomainError.invalid(field: "partner", code: "inactive-partner", "partner \(partner) is deactivated")
        }
        try checkText(text)
        return try decode(
            try connection.query(
                """
                INSERT INTO contributions (indicator_code, period, period_start, partner_id, body, key_id)
                VALUES (\(code), \(period.description), \(period.start), \(partner), \(text), \(author.keyID))
                RETURNING \(columns)
                """)[0])
    }

    /// The contributions `reader` may see under `filter`, oldest first, after `cursor`.
    public static func list(_ connection: Connection, filter: Filter, reader: Reader, after cursor: Int?, limit: Int)
        throws -> Page
    {
        var conditions: [Query] = [reader.visible]
        if let indicator = filter.indicator { conditions.append("indicator_code = \(indicator)") }
        if let period = filter.period { conditions.append("period = \(period.description)") }
        if let partner = filter.partner { conditions.append("partner_id = \(partner)") }
        if let quoted = filter.quoted { conditions.append("quoted = \(quoted)") }
        if let cursor { conditions.append("id > \(cursor)") }
        let rows = try connection.query(
            """
            SELECT \(columns) FROM contributions WHERE \(Query.joined(conditions, separator: " AND "))
            ORDER BY id LIMIT \(limit + 1)
            """)
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.id : nil)
    }

    /// Contribution `id`, if `reader` may see it.
    public static func find(_ connection: Connection, id: Int, reader: Reader, locking: Bool = false) throws
        -> Contribution?
    {
        let lock: Query = locking ? " FOR UPDATE" : ""
        return try connection.query(
            "SELECT \(columns) FROM contributions WHERE id = \(id) AND \(reader.visible)\(lock)"
        ).first.map(decode)
    }

    /// The coordinator sets `quoted`; the writing partner changes `text`, which un-quotes it
    /// (the coordinator approved particular words). Anyone else: 404 for what they cannot
    /// see, 403 for what they can.
    public static func update(_ connection: Connection, id: Int, text: String?, quoted: Bool?, by editor: KeyHolder)
        throws -> Contribution
    {
        let old = try owned(connection, id: id, by: editor, doing: "change")
        if editor.partner != nil, quoted != nil {
            throw DomainError.forbidden("Only the coordinator quotes a contribution; a partner key changes its text.")
        }
        if editor.partner == nil, text != nil {
            throw DomainError.forbidden("A contribution's text is its partner's words; the coordinator sets quoted.")
        }
        if let text { try checkText(text) }
        let newText = text ?? old.text
        let newQuoted = quoted ?? (newText == old.text ? old.quoted : false)
        guard newText != old.text || newQuoted != old.quoted else { return old }
        return try decode(
            try connection.query(
                """
                UPDATE contributions SET body = \(newText), quoted = \(newQuoted), updated_at = now()
                WHERE id = \(id) RETURNING \(columns)
                """)[0])
    }

    /// Withdraws contribution `id` (its partner, or the coordinator): it is deleted.
    public static func withdraw(_ connection: Connection, id: Int, by editor: KeyHolder) throws {
        _ = try owned(connection, id: id, by: editor, doing: "withdraw")
        try connection.query("DELETE FROM contributions WHERE id = \(id)")
    }

    /// Contribution `id`, locked, if `editor` may change it: the coordinator any, a partner
    /// its own (another's is a 404 unless quoted, then a 403).
    private static func owned(_ connection: Connection, id: Int, by editor: KeyHolder, doing verb: String) throws
        -> Contribution
    {
        let reader: Reader = editor.partner.map { .partner($0) } ?? .coordinator
        guard let found = try find(connection, id: id, reader: reader, locking: true) else {
            throw DomainError.notFound("No contribution \(id).")
        }
        if let partner = editor.partner, found.partner != partner {
            throw DomainError.forbidden("A partner key may \(verb) only its own partner's contributions.")
        }
        return found
    }

    private static func checkText(_ text: String) throws {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DomainError.invalid(field: "text", code: "required", "must not be empty")
        }
    }

    private static func decode(_ row: Row) throws -> Contribution {
        let (id, indicator, period, partner, text, quoted, createdAt, updatedAt) =
            try row.decode((Int, String, String, String, String, Bool, Date, Date).self)
        return Contribution(
            id: id, indicator: indicator,
            period: try NarrativeScope.storedPeriod(period, column: "contributions.period"), partner: partner,
            text: text, quoted: quoted, createdAt: createdAt, updatedAt: updatedAt)
    }
}
