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

    /// The SQL expressions that read this field back, in order.
    var selectColumns: [String] {
        switch kind {
        case .periodValue: return ["\(column)_period", "\(column)_value"]
        case .dimensions: return ["\(column)::text"]
        default: return [column]
        }
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
            return [(column, "\(try! JSONText(encoding: dimensions))")]
        default:
            return nil
        }
    }

    /// The field's JSON value from the row, starting at `column`; advances `column`.
    func decode(_ row: Row, column: inout Int) throws -> JSONValue {
        defer { column += selectColumns.count }
        switch kind {
        case .slug, .reference, .text, .email, .choice, .date:
            return JSONValue(row.text(at: column))
        case .number:
            return JSONValue(try row.decode(Double?.self, at: column))
        case .integer:
            return JSONValue(try row.decode(Int?.self, at: column))
        case .bool:
            return JSONValue(try row.decode(Bool?.self, at: column))
        case .periodValue:
            guard let period = row.text(at: column) else { return .null }
            return .object(["period": .string(period), "value": JSONValue(try row.decode(Double?.self, at: column + 1))])
        case .dimensions:
            return try JSONValue.parse(Data((row.text(at: column) ?? "[]").utf8))
        }
    }
}

import Foundation

/// A disaggregation an indicator declares: a name and its allowed values.
public struct Dimension: Codable, Sendable, Equatable {
    public var name: String
    public var values: [String]

    /// Validates `[{name, values}]`: slug names, unique, each with unique non-empty values.
    static func parseList(_ value: JSONValue, field: String, into reader: inout FieldReader) -> [Dimension]? {
        guard case .array(let items) = value else {
            reader.fail(field, "wrong-type", "must be an array of {name, values}")
            return nil
        }
        var result: [Dimension] = []
        var valid = true
        for (index, item) in items.enumerated() {
            let path = "\(field)[\(index)]"
            guard case .object(let object) = item else {
                reader.fail(path, "wrong-type", "must be an object {name, values}")
                valid = false
                continue
            }
            var nested = FieldReader(object, row: reader.row, prefix: "\(path).")
            let name = nested.slug("name", required: true)
            var values: [String] = []
            if case .array(let raw)? = nested.raw("values", required: true) {
                for (position, entry) in raw.enumerated() {
                    if case .string(let text) = entry, !text.isEmpty, text.unicodeScalars.count <= 64, !text.unicodeScalars.contains("\u{0}") {
                        if values.contains(text) {
                            nested.fail("values[\(position)]", "duplicate", "\(text) is listed twice")
                        }
                        values.append(text)
                    } else {
                        nested.fail("values[\(position)]", "wrong-type", "must be a non-empty string of at most 64 characters")
                    }
                }
                if raw.isEmpty { nested.fail("values", "required", "must list at least one value") }
            } else if nested.has("values") {
                nested.fail("values", "wrong-type", "must be an array of strings")
            }
            nested.rejectUnknownFields()
            if let name, result.contains(where: { $0.name == name }) {
                nested.fail("name", "duplicate", "dimension \(name) is declared twice")
            }
            for issue in nested.issues { reader.fail(issue.field, issue.code, issue.message) }
            if nested.issues.isEmpty, let name { result.append(Dimension(name: name, values: values)) } else { valid = false }
        }
        return valid ? result : nil
    }
}
