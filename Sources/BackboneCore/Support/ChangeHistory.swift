import Foundation
import Postgres

/// One page of a history table (`validation_rule_history`, `action_history`): a record's
/// entries, oldest first, after a cursor (an entry id). Each row holds the record as it
/// stood after the change (`columns`, first, for the caller's decoder) and the entry's id,
/// kind of change, key and time.
enum ChangeHistory {
    /// One entry; `row`'s leading columns are the record's.
    struct Entry {
        var id: Int
        var kind: String
        var keyID: String
        var at: Date
        var row: Row
    }

    /// The entries of `table` that `record` selects, after `cursor`, each made an item by `item`;
    /// and the cursor of the next page, if any.
    static func page<Item>(
        _ connection: Connection, columns: Query, from table: Query, kind: Query, record: Query, after cursor: Int?,
        limit: Int, _ item: (Entry) throws -> Item
    ) throws -> (items: [Item], nextCursor: Int?) {
        let after: Query = cursor.map { " AND id > \($0)" } ?? ""
        let rows = try connection.query(
            """
            SELECT \(columns), id AS entry_id, \(kind) AS entry_kind, key_id AS entry_key, at AS entry_at
            FROM \(table) WHERE \(record)\(after) ORDER BY id LIMIT \(limit + 1)
            """)
        var last: Int?
        let items = try rows.prefix(limit).map { row in
            let entry = Entry(
                id: try row.decode(column: "entry_id"), kind: try row.decode(column: "entry_kind"),
                keyID: try row.decode(column: "entry_key"), at: try row.decode(column: "entry_at"), row: row)
            last = entry.id
            return try item(entry)
        }
        return (items, rows.count > limit ? last : nil)
    }
}
