import Aggregation
import BackboneCore
import DomainModel
import JSON

/// Reads a registry create or update body into typed `RegistryChanges`, reporting every
/// problem at once (wrong types, unknown fields, a key sent where the server assigns it).
enum RegistryBody {
    static func changes(_ body: [String: JSONValue], for resource: RegistryResource, creating: Bool) throws
        -> RegistryChanges
    {
        var reader = FieldReader(body)
        var changes = RegistryChanges()
        let fields = creating && resource.generatedKey ? resource.fields : resource.allFields
        for field in fields {
            if let value = read(field, from: &reader, creating: creating) { changes.set(field.name, value) }
        }
        if creating, resource.generatedKey, reader.has(resource.key.name) {
            _ = reader.raw(resource.key.name)
            reader.fail(resource.key.name, "read-only", "is assigned by the server")
        }
        reader.rejectUnknownFields()
        guard reader.issues.isEmpty else { throw DomainError.invalid(reader.issues) }
        return changes
    }

    /// The field's value in the body; `nil` when absent, or invalid (then reported).
    static func read(_ field: RegistryField, from reader: inout FieldReader, creating: Bool) -> RegistryChanges.Value? {
        let name = field.name
        // A required field may be left out of a PATCH, but not blanked by one.
        let required = field.requiredOnCreate && (creating || reader.has(name))
        if !creating && field.immutable {
            if reader.has(name) { _ = reader.raw(name); reader.fail(name, "immutable", "cannot be changed") }
            return nil
        }
        if !creating, !reader.has(name) { return nil }
        let explicitNull = reader.object[name] == .null
        let value: RegistryChanges.Value?
        switch field.kind {
        case .slug, .reference: value = reader.slug(name, required: required).map { .text($0) }
        case .text(let maxLength):
            value = reader.string(name, required: required, maxLength: maxLength).map { .text($0) }
        case .email: value = reader.email(name).map { .text($0) }
        case .choice(let allowed): value = reader.choice(name, allowed, required: required).map { .text($0) }
        case .date: value = reader.date(name, required: required).map { .date($0) }
        case .number: value = reader.number(name, required: required).map { .number($0) }
        case .integer(let minimum):
            value = reader.integer(name, required: required, minimum: minimum, maximum: Int(Int32.max)).map {
                .integer($0)
            }
        case .bool: value = reader.bool(name).map { .bool($0) }
        case .periodValue:
            guard let object = reader.object(name) else { return explicitNull ? .null : nil }
            return periodValue(object, field: name, into: &reader).map { .periodValue($0) }
        case .dimensions:
            guard let raw = reader.raw(name) else { return nil }
            return Dimension.parseList(raw, field: name, into: &reader).map { .dimensions($0) }
        }
        if let value { return value }
        guard explicitNull, !required else { return nil }  // absent, or invalid and already reported
        if case .bool = field.kind { reader.fail(name, "required", "must not be null"); return nil }
        if field.requiredOnCreate { reader.fail(name, "required", "must not be null"); return nil }
        return .null
    }

    /// `{period, value}`: a baseline or a target.
    static func periodValue(_ object: [String: JSONValue], field: String, into reader: inout FieldReader) -> Indicator
        .PeriodValue?
    {
        var nested = FieldReader(object, row: reader.row, prefix: "\(field).")
        let text = nested.string("period", required: true, maxLength: 16)
        let period = text.flatMap(Period.init)
        if text != nil, period == nil {
            nested.fail("period", "malformed-period", "must be written 2026, 2026-Q3, 2026-10 or 2026-W05")
        }
        let value = nested.number("value", required: true)
        nested.rejectUnknownFields()
        for issue in nested.issues { reader.fail(issue.field, issue.code, issue.message) }
        guard nested.issues.isEmpty, let period, let value else { return nil }
        return Indicator.PeriodValue(period: period, value: value)
    }
}
