import Aggregation
import Foundation
import Postgres

/// A board packet frozen when published: its JSON and HTML are stored with their SHA-256
/// and served, byte for byte, forever, whatever is corrected or rewritten later.
public struct Publication: Sendable {
    /// Who may read it, and how its numbers were computed.
    public enum Audience: String, Sendable, CaseIterable {
        /// Live data, every cell: coordinator keys only.
        case coordinator
        /// As a viewer key sees the data: readable by every key.
        case `public`
    }

    public var id: Int
    public var agenda: String
    public var period: Period
    public var title: String
    public var audience: Audience
    public var jsonSHA256: String
    public var htmlSHA256: String
    public var publishedBy: String
    public var publishedAt: Date

    /// Whether a key of this kind may read it.
    public func isReadable(byCoordinator: Bool) -> Bool { byCoordinator || audience == .public }
}

/// Storing and reading publications.
public enum Publications {
    /// The frozen bytes of a publication.
    public enum Representation: Sendable {
        case json, html
    }

    /// One page of publications, newest first, and the cursor of the next page, if any.
    public struct Page: Sendable {
        public var items: [Publication]
        public var nextCursor: Int?
    }

    /// What a new publication is compared with: the previous one of its agenda and audience.
    public struct Previous: Sendable {
        public var publication: Publication
        public var json: String
    }

    private static let columns = Query(
        unsafeSQL: """
            id, agenda_id, period, title, audience, json_sha256, html_sha256, key_id, published_at
            """)

    /// Publishes a packet in one transaction: the agenda's row is locked so that two
    /// publications of one agenda are ordered, `render` gets the moment and the previous
    /// publication of the same agenda and audience and returns the JSON and HTML, which are
    /// stored with their SHA-256 (computed by PostgreSQL).
    public static func publish(
        _ connection: Connection, agenda: String, period: Period, title: String, audience: Publication.Audience,
        keyID: String, render: (_ publishedAt: Date, _ previous: Previous?) throws -> (json: String, html: String)
    ) throws -> Publication {
        guard try !connection.query("SELECT 1 FROM agendas WHERE id = \(agenda) FOR UPDATE").isEmpty else {
            throw unknownAgenda(agenda)
        }
        let publishedAt = try connection.query("SELECT now()")[0].decode(Date.self)
        let (json, html) = try render(publishedAt, try latest(connection, agenda: agenda, audience: audience))
        let rows = try connection.query(
            """
            INSERT INTO publications (agenda_id, period, period_start, title, audience, packet_json, packet_html,
                json_sha256, html_sha256, key_id, published_at)
            SELECT \(agenda), \(period.description), \(period.start), \(title), \(audience.rawValue), j, h,
                encode(sha256(j), 'hex'), encode(sha256(h), 'hex'), \(keyID), \(publishedAt)
            FROM (SELECT convert_to(\(json), 'UTF8') AS j, convert_to(\(html), 'UTF8') AS h) AS packet
            RETURNING \(columns)
            """)
        let publication = try decode(rows[0])
        try ChangeEvents.published(connection, publication)
        return publication
    }

    /// A publication's body naming an agenda that does not exist: a 422 on its `agenda` field.
    public static func unknownAgenda(_ agenda: String) -> DomainError {
        .invalid(field: "agenda", code: "unknown-agenda", "no agenda \(agenda) exists")
    }

    /// The latest publication of `agenda` for `audience`, with its JSON.
    public static func latest(_ connection: Connection, agenda: String, audience: Publication.Audience) throws
        -> Previous?
    {
        try connection.query(
            """
            SELECT \(columns), convert_from(packet_json, 'UTF8') FROM publications
            WHERE agenda_id = \(agenda) AND audience = \(audience.rawValue) ORDER BY id DESC LIMIT 1
            """
        ).first.map { row in Previous(publication: try decode(row), json: try row.decode(String.self, at: 9)) }
    }

    /// The publication `id`, if there is one.
    public static func find(_ connection: Connection, id: Int) throws -> Publication? {
        try connection.query("SELECT \(columns) FROM publications WHERE id = \(id)").first.map(decode)
    }

    /// The frozen bytes of publication `id`, as text (they are UTF-8).
    public static func content(_ connection: Connection, id: Int, as representation: Representation) throws -> String? {
        let column = Query(unsafeSQL: representation == .json ? "packet_json" : "packet_html")
        return try connection.query("SELECT convert_from(\(column), 'UTF8') FROM publications WHERE id = \(id)")
            .first.map { try $0.decode(String.self) }
    }

    /// Publications newest first, before `cursor`, optionally of one agenda, public ones
    /// only unless `includingCoordinator`.
    public static func list(
        _ connection: Connection, agenda: String?, includingCoordinator: Bool, cursor: Int?, limit: Int
    ) throws -> Page {
        var conditions: [Query] = ["true"]
        if let agenda { conditions.append("agenda_id = \(agenda)") }
        if !includingCoordinator { conditions.append("audience = 'public'") }
        if let cursor { conditions.append("id < \(cursor)") }
        let items = try connection.query(
            "SELECT \(columns) FROM publications WHERE \(Query.joined(conditions, separator: " AND ")) ORDER BY id DESC LIMIT \(limit + 1)"
        ).map(decode)
        let page = Array(items.prefix(limit))
        return Page(items: page, nextCursor: items.count > limit ? page.last?.id : nil)
    }

    private static func decode(_ row: Row) throws -> Publication {
        let (id, agenda, period, title, audience, json, html, key, at) = try row.decode(
            (Int, String, String, String, String, String, String, String, Date).self)
        guard let period = Period(period) else {
            throw DomainError.storedData(
                column: "publications.period", "holds \(period.debugDescription), not a period")
        }
        return Publication(
            id: id, agenda: agenda, period: period, title: title,
            audience: try .stored(audience, column: "publications.audience"), jsonSHA256: json, htmlSHA256: html,
            publishedBy: key,
            publishedAt: at)
    }
}
