import BackboneCore
import DataQuality
import JSON

// A validation rule as the wire spells it: `left` and `right` as the coordinator wrote
// them, with the indicators they read and the period type those share.
extension StoredRule: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": .string(rule.id), "agenda": .string(rule.agenda), "name": .string(rule.name),
            "left": .string(leftText), "operator": .string(rule.operator.rawValue), "right": .string(rightText),
            "importance": .string(rule.importance.rawValue), "action": .string(rule.action.rawValue),
            "missing": .string(rule.missing.rawValue), "active": .bool(rule.active),
            "indicators": .array(rule.indicators.sorted().map(JSONValue.string)),
            "period_type": .string(periodType.rawValue),
            "created_at": JSONValue(createdAt), "updated_at": JSONValue(updatedAt),
        ])
    }
}

extension RuleChange: JSONRepresentable {
    public var json: JSONValue {
        .object(["action": .string(action.rawValue), "at": JSONValue(at), "key": .string(keyID), "rule": rule.json])
    }
}

/// Reads a rule's create or update (PATCH) body into `RuleFields`, reporting every problem
/// at once: wrong types, unknown fields and enum values, id or agenda in a PATCH.
enum RuleBody {
    static func fields(_ body: [String: JSONValue], creating: Bool) throws -> RuleFields {
        var reader = FieldReader(body)
        var fields = RuleFields()
        if creating {
            fields.id = reader.slug("id", required: true)
            fields.agenda = reader.slug("agenda", required: true)
        } else {
            for name in ["id", "agenda"] where reader.has(name) {
                _ = reader.raw(name)
                reader.fail(name, "immutable", "cannot be changed")
            }
        }
        fields.name = text("name", maxLength: 200, creating: creating, from: &reader)
        fields.left = text("left", maxLength: RuleExpression.maximumLength, creating: creating, from: &reader)
        fields.right = text("right", maxLength: RuleExpression.maximumLength, creating: creating, from: &reader)
        fields.operator = reader.choice("operator", RuleOperator.self, required: creating)
        fields.importance = reader.choice("importance", RuleImportance.self)
        fields.action = reader.choice("action", RuleAction.self)
        fields.missing = reader.choice("missing", MissingValueStrategy.self)
        if reader.object["active"] == .null { reader.fail("active", "required", "must not be null") }
        fields.active = reader.bool("active")
        reader.rejectUnknownFields()
        guard reader.issues.isEmpty else { throw DomainError.invalid(reader.issues) }
        return fields
    }

    /// A text field required on create; a PATCH may leave it out but not blank it.
    private static func text(_ name: String, maxLength: Int, creating: Bool, from reader: inout FieldReader)
        -> String?
    {
        reader.string(name, required: creating || reader.has(name), maxLength: maxLength)
    }
}
