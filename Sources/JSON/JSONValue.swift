import Foundation
import UTCTime

/// Any JSON value, decoded without a fixed shape, so that validation can report every
/// problem of a body at once instead of stopping at the first, as `Decodable` would.
///
/// Numbers are `Double`s: the parser refuses any whose magnitude reaches 2^53, so every
/// whole number a value holds is exactly the one that was written.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a JSON document strictly (see `JSONParser`).
    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(data)
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Encodes an optional: `nil` is `null`.
    public init(_ value: String?) { self = value.map(JSONValue.string) ?? .null }
    public init(_ value: Double?) { self = value.map(JSONValue.number) ?? .null }
    public init(_ value: Int?) { self = value.map { .number(Double($0)) } ?? .null }
    public init(_ value: Bool?) { self = value.map(JSONValue.bool) ?? .null }
    /// A moment as ISO 8601 in UTC to the second (`2026-11-25T23:43:01Z`).
    public init(_ value: Date?) { self = value.map { .string(Self.iso8601($0)) } ?? .null }
    /// Strings as an array of strings.
    public init(_ values: [String]) { self = .array(values.map(JSONValue.string)) }
    /// Strings by name as an object of strings.
    public init(_ values: [String: String]) { self = .object(values.mapValues(JSONValue.string)) }
}

extension JSONValue {
    /// `2026-11-25T23:43:01Z`: the spelling responses have always used for moments
    /// (whole seconds, UTC).
    static func iso8601(_ date: Date) -> String {
        UTCTimestamp.string(seconds: Int(date.timeIntervalSince1970.rounded(.down)))
    }
}

/// A value with one JSON spelling, written by `JSONValue.jsonBytes` (responses) or read
/// back into a `JSONValue` (CSV tables built from the same document).
public protocol JSONRepresentable {
    var json: JSONValue { get }
}

extension JSONValue: JSONRepresentable {
    public var json: JSONValue { self }
}
