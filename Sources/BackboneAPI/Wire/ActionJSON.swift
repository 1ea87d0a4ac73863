import Aggregation
import BackboneCore
import JSON

// An action of the plan as the wire spells it, with `overdue` as of today (UTC).
extension PlannedAction: JSONRepresentable {
    public var json: JSONValue { json(today: Period.today()) }

    func json(today: Day) -> JSONValue {
        .object([
            "id": JSONValue(id), "indicator": .string(indicator), "title": .string(title), "owner": .string(owner),
            "due": .string(due.description), "status": .string(status.rawValue), "note": .string(note),
            "overdue": .bool(isOverdue(today: today)), "created_at": JSONValue(createdAt),
            "updated_at": JSONValue(updatedAt),
        ])
    }
}

extension ActionChange: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "change": .string(change.rawValue), "at": JSONValue(at), "key": .string(keyID), "action": action.json,
        ])
    }
}

/// Reads an action's create or update (PATCH) body into `ActionFields`, reporting every
/// problem at once: wrong types, unknown fields and status values, dates that do not exist.
enum ActionBody {
    static func fields(_ body: [String: JSONValue], creating: Bool) throws -> ActionFields {
        var reader = FieldReader(body)
        var fields = ActionFields()
        // Required on create; a PATCH may leave them out but not blank them.
        fields.indicator = reader.slug("indicator", required: creating || reader.has("indicator"))
        fields.title = reader.string("title", required: creating || reader.has("title"), maxLength: 200)
        fields.owner = reader.slug("owner", required: creating || reader.has("owner"))
        fields.due = reader.date("due", required: creating || reader.has("due"))
        fields.status = reader.choice("status", ActionStatus.self)
        if reader.object["note"] == .null { reader.fail("note", "required", "must not be null; send \"\" to clear it") }
        fields.note = reader.string("note", maxLength: 2000)
        reader.rejectUnknownFields()
        guard reader.issues.isEmpty else { throw DomainError.invalid(reader.issues) }
        return fields
    }
}
