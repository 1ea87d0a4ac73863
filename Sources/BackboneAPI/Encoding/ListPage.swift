import BackboneCore
import JSON

/// A page of a list: the items and the cursor that fetches the next page (null on the last).
struct ListPage<Item: JSONRepresentable>: JSONRepresentable {
    var items: [Item]
    var nextCursor: String?

    var json: JSONValue {
        .object(["items": .array(items.map(\.json)), "next_cursor": JSONValue(nextCursor)])
    }
}
