import Foundation

/// A Swift value that can be sent to PostgreSQL as a text-format parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input syntax.
    var postgresText: String { get }
}

extension String: PostgresEncodable {
    public var postgresText: String { self }
}

extension Substring: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresEncodable {
    public var postgresText: String { self ? "t" : "f" }
}

extension Double: PostgresEncodable {
    /// Swift prints the shortest text that reads back to the same double.
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Decimal: PostgresEncodable {
    public var postgresText: String { description }
}

extension Date: PostgresEncodable {
    public var postgresText: String { PostgresTimestamp.format(self) }
}

extension UUID: PostgresEncodable {
    public var postgresText: String { uuidString.lowercased() }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    /// An array literal such as `{"a","b\"c",NULL}`. Inlinable so that each element type
    /// gets its own specialized loop: a batch binds ten arrays of thousands of elements.
    @inlinable
    public var postgresText: String {
        var text = "{"
        text.reserveCapacity(count * 16)
        for index in indices {
            if index > startIndex { text += "," }
            let element = self[index]
            if let value = element.postgresArrayElementText {
                text += "\""
                if value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                    for character in value.unicodeScalars {
                        if character == "\"" || character == "\\" { text += "\\" }
                        text.unicodeScalars.append(character)
                    }
                } else {
                    text += value
                }
                text += "\""
            } else {
                text += "NULL"
            }
        }
        return text + "}"
    }
}

/// A value that can be an element of an array parameter (optionals become NULL).
public protocol PostgresArrayElement: Sendable {
    var postgresArrayElementText: String? { get }
}

extension PostgresArrayElement where Self: PostgresEncodable {
    public var postgresArrayElementText: String? { postgresText }
}

extension String: PostgresArrayElement {}
extension Int: PostgresArrayElement {}
extension Int64: PostgresArrayElement {}
extension Double: PostgresArrayElement {}
extension Bool: PostgresArrayElement {}
extension Decimal: PostgresArrayElement {}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public var postgresArrayElementText: String? { self?.postgresArrayElementText }
}
