import Aggregation
import BackboneCore
import Foundation
import JSON
import Postgres

/// Reads typed fields out of a JSON object, collecting every problem instead of
/// stopping at the first, and flags fields nobody asked for (usually typos).
struct FieldReader {
    let object: [String: JSONValue]
    let row: Int?
    private(set) var issues: [DomainError.Issue] = []
    /// The fields read so far; a handful, so a list beats hashing each name.
    private var consumed: [String] = []
    private let prefix: String

    init(_ object: [String: JSONValue], row: Int? = nil, prefix: String = "") {
        self.object = object
        self.row = row
        self.prefix = prefix
    }

    mutating func fail(_ field: String, _ code: String, _ message: String) {
        issues.append(DomainError.Issue(row: row, field: prefix + field, code: code, message: message))
    }

    /// Whether the body mentions the field at all (even as null).
    func has(_ field: String) -> Bool { object[field] != nil }

    /// The raw value, marked as consumed; `nil` when absent or null.
    mutating func raw(_ field: String, required: Bool = false) -> JSONValue? {
        consumed.append(field)
        guard let value = object[field], value != .null else {
            if required { fail(field, "required", "is required") }
            return nil
        }
        return value
    }

    mutating func string(_ field: String, required: Bool = false, maxLength: Int = 2000) -> String? {
        guard let value = raw(field, required: required) else { return nil }
        guard case .string(let text) = value else {
            fail(field, "wrong-type", "must be a string, not \(value.typeName)")
            return nil
        }
        if required, text.trimmingCharacters(in: .whitespaces).isEmpty {
            fail(field, "required", "must not be empty")
            return nil
        }
        // Counted as JSON Schema's `maxLength` counts: in Unicode code points (a Swift
        // Character may join several, so `count` would let longer text through).
        guard text.utf8.count <= maxLength || text.unicodeScalars.count <= maxLength else {
            fail(field, "too-long", "must be at most \(maxLength) characters")
            return nil
        }
        guard !text.utf8.contains(0) else {
            fail(field, "invalid", "must not contain NUL characters")
            return nil
        }
        return text
    }

    /// A lowercase slug: `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
    mutating func slug(_ field: String, required: Bool = false) -> String? {
        guard let text = string(field, required: required, maxLength: 64) else { return nil }
        guard Slug.isValid(text) else {
            fail(
                field, "invalid-slug",
                "must be a lowercase slug of letters, digits, '_' and '-' starting with a letter or digit")
            return nil
        }
        return text
    }

    mutating func choice(_ field: String, _ allowed: [String], required: Bool = false) -> String? {
        guard let text = string(field, required: required, maxLength: 64) else { return nil }
        guard allowed.contains(text) else {
            fail(field, "not-allowed", "must be one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return text
    }

    /// An enum field by its wire spelling; present as null, it is refused like a wrong value.
    mutating func choice<Value: RawRepresentable & CaseIterable>(
        _ field: String, _: Value.Type, required: Bool = false
    ) -> Value? where Value.RawValue == String {
        choice(field, Value.allCases.map(\.rawValue), required: required || has(field)).flatMap(Value.init(rawValue:))
    }

    /// A finite number within ±`NumberRange.maxMagnitude` (so that sums of them stay finite).
    mutating func number(_ field: String, required: Bool = false) -> Double? {
        guard let value = raw(field, required: required) else { return nil }
        guard case .number(let number) = value else {
            fail(field, "wrong-type", "must be a number, not \(value.typeName)")
            return nil
        }
        if let refusal = NumberRange.refusal(number) {
            fail(field, refusal.code, refusal.message)
            return nil
        }
        return number
    }

    mutating func integer(_ field: String, required: Bool = false, minimum: Int = .min, maximum: Int = .max) -> Int? {
        guard let number = number(field, required: required) else { return nil }
        guard number == number.rounded(), abs(number) < 9e15 else {
            fail(field, "not-integer", "must be a whole number")
            return nil
        }
        guard Int(number) >= minimum else {
            fail(field, "out-of-range", "must be at least \(minimum)")
            return nil
        }
        guard Int(number) <= maximum else {
            fail(field, "out-of-range", "must be at most \(maximum)")
            return nil
        }
        return Int(number)
    }

    mutating func bool(_ field: String) -> Bool? {
        guard let value = raw(field) else { return nil }
        guard case .bool(let flag) = value else {
            fail(field, "wrong-type", "must be true or false, not \(value.typeName)")
            return nil
        }
        return flag
    }

    mutating func date(_ field: String, required: Bool = false) -> Day? {
        guard let text = string(field, required: required, maxLength: 10) else { return nil }
        guard let date = Day(text) else {
            fail(field, "invalid-date", "must be a date written YYYY-MM-DD")
            return nil
        }
        return date
    }

    mutating func email(_ field: String) -> String? {
        guard let text = string(field, maxLength: 254) else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !text.contains(" ") else {
            fail(field, "invalid-email", "must be an email address")
            return nil
        }
        return text
    }

    mutating func object(_ field: String) -> [String: JSONValue]? {
        guard let value = raw(field) else { return nil }
        guard case .object(let object) = value else {
            fail(field, "wrong-type", "must be an object, not \(value.typeName)")
            return nil
        }
        return object
    }

    /// Adds an issue for every field that was present but never read.
    mutating func rejectUnknownFields() {
        let unknown = object.keys.filter { !consumed.contains($0) }
        for field in unknown.sorted() {
            fail(field, "unknown-field", "is not a field of this resource")
        }
    }
}
