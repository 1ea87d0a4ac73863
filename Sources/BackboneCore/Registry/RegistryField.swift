import Aggregation
import Postgres

/// One field of a registry resource: its wire name, its column, its type and rules.
public struct RegistryField: Sendable {
    public enum Kind: Sendable {
        case slug
        case text(maxLength: Int)
        case email
        case choice([String])
        case date
        case number
        case integer(minimum: Int)
        case bool
        /// A slug naming a row of another resource.
        case reference
        /// `{period, value}`, stored as `<column>_period` and `<column>_value`.
        case periodValue
        /// `[{name, values: [..]}]`, stored as jsonb.
        case dimensions
    }

    public let name: String
    public let column: String
    public let kind: Kind
    public let requiredOnCreate: Bool
    /// Fixed once created (the key).
    public let immutable: Bool
    /// Lists accept `?name=value` for it.
    public let filterable: Bool

    public init(
        _ name: String, column: String? = nil, _ kind: Kind, required: Bool = false, immutable: Bool = false,
        filterable: Bool = false
    ) {
        self.name = name
        self.column = column ?? name
        self.kind = kind
        self.requiredOnCreate = required
        self.immutable = immutable
        self.filterable = filterable
    }

    /// The columns that store this field.
    var storedColumns: [String] {
        if case .periodValue = kind { return ["\(column)_period", "\(column)_value"] }
        return [column]
    }

    /// Reads the field from a request body into column assignments; `nil` if absent.
    func read(from reader: inout FieldReader, creating: Bool) -> [(column: String, value: Query)]? {
        // A required field may be left out of a PATCH, but not blanked by one.
        let required = requiredOnCreate && (creating || reader.has(name))
        if !creating && immutable {
            if reader.has(name) { _ = reader.raw(name); reader.fail(name, "immutable", "cannot be changed") }
            return nil
        }
        if !creating, !reader.has(name) { return nil }
        let explicitNull = reader.object[name] == .null
        let scalar: (any PostgresEncodable)?
        switch kind {
        case .slug, .reference: scalar = reader.slug(name, required: required)
        case .text(let maxLength): scalar = reader.string(name, required: required, maxLength: maxLength)
        case .email: scalar = reader.email(name)
        case .choice(let allowed): scalar = reader.choice(name, allowed, required: required)
        case .date: scalar = reader.date(name, required: required)
        case .number: scalar = reader.number(name, required: required)
        case .integer(let minimum): scalar = reader.integer(name, required: required, minimum: minimum, maximum: Int(Int32.max))
        case .bool: scalar = reader.bool(name)
        case .periodValue, .dimensions: return readCompound(from: &reader, explicitNull: explicitNull)
        }
        if let scalar { return [(column, Query.bind(scalar))] }
        guard explicitNull, !required else { return nil }  // absent, or invalid and already reported
        if requiredOnCreate || { if case .bool = kind { return true } else { return false } }() {
            reader.fail(name, "required", "must not be null")
            return nil
        }
        return [(column, Query.bind(nil))]
    }

    private func readCompound(from reader: inout FieldReader, explicitNull: Bool) -> [(column: String, value: Query)]? {
        switch kind {
        case .periodValue:
            guard let object = reader.object(name) else {
                return explicitNull ? [("\(column)_period", Query.bind(nil)), ("\(column)_value", Query.bind(nil))] : nil
            }
            var nested = FieldReader(object, row: reader.row, prefix: "\(name).")
            let period = nested.string("period", required: true, maxLength: 16)
            if let period, Period(period) == nil {
                nested.fail("period", "malformed-period", "must be written 2026, 2026-Q3, 2026-10 or 2026-W05")
            }
            let value = nested.number("value", required: true)
            nested.rejectUnknownFields()
            for issue in nested.issues { reader.fail(String(issue.field), issue.code, issue.message) }
            guard nested.issues.isEmpty else { return nil }
            return [("\(column)_period", "\(period)"), ("\(column)_value", "\(value)")]
        case .dimensions:
            guard let value = reader.raw(name) else { return nil }
            guard let dimensions = Dimension.parseList(value, field: name, into: &reader) else { return nil }
            return [(column, "\(JSONText(Dimension.storedText(dimensions)))")]
        default:
            return nil
        }
    }
}
