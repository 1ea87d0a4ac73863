import Foundation

/// A Swift type that can be read from a text-format result column.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value from PostgreSQL's text output.
    init(postgresText text: String) throws
    /// The value for SQL NULL; only optionals have one.
    static func postgresNull() throws -> Self
}

extension PostgresDecodable {
    public static func postgresNull() throws -> Self {
        throw PostgresError(.decoding, "unexpected NULL for \(Self.self)")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String) throws {
        self = .some(try Wrapped(postgresText: text))
    }

    public static func postgresNull() throws -> Wrapped? { nil }
}

func decodingError<T>(_ text: String, as type: T.Type) -> PostgresError {
    PostgresError(.decoding, "cannot read \(text.debugDescription) as \(T.self)")
}

extension String: PostgresDecodable {
    public init(postgresText text: String) throws { self = text }
}

extension PostgresDecodable where Self: FixedWidthInteger {
    public init(postgresText text: String) throws {
        guard let value = Self(text) else { throw decodingError(text, as: Self.self) }
        self = value
    }
}

extension Int: PostgresDecodable {}
extension Int64: PostgresDecodable {}
extension Int32: PostgresDecodable {}

extension Double: PostgresDecodable {
    public init(postgresText text: String) throws {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw decodingError(text, as: Double.self) }
            self = value
        }
    }
}

extension Decimal: PostgresDecodable {
    public init(postgresText text: String) throws {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw decodingError(text, as: Decimal.self)
        }
        self = value
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: String) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw decodingError(text, as: Bool.self)
        }
    }
}

extension Date: PostgresDecodable {
    public init(postgresText text: String) throws {
        guard let date = PostgresTimestamp.parse(text) else { throw decodingError(text, as: Date.self) }
        self = date
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: String) throws {
        guard let value = UUID(uuidString: text) else { throw decodingError(text, as: UUID.self) }
        self = value
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Reads a one-dimensional array literal such as `{a,"b c",NULL}`.
    public init(postgresText text: String) throws {
        guard let elements = PostgresArrayLiteral.parse(text) else { throw decodingError(text, as: [Element].self) }
        self = try elements.map { element in
            guard let element else { return try Element.postgresNull() }
            return try Element(postgresText: element)
        }
    }
}

/// Parses PostgreSQL's one-dimensional array output syntax.
enum PostgresArrayLiteral {
    static func parse(_ text: String) -> [String?]? {
        let utf8 = text.utf8
        guard utf8.first == UInt8(ascii: "{"), utf8.last == UInt8(ascii: "}") else { return nil }
        // Fast path: no quoting or escaping, as in arrays of codes and numbers.
        if !utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            let inner = text.dropFirst().dropLast()
            if inner.isEmpty { return [] }
            return inner.split(separator: ",", omittingEmptySubsequences: false).map { $0 == "NULL" ? nil : String($0) }
        }
        var scalars = Substring(text).unicodeScalars[...]
        scalars = scalars.dropFirst().dropLast()
        var elements: [String?] = []
        if scalars.isEmpty { return elements }
        var current = String.UnicodeScalarView()
        var quoted = false
        var wasQuoted = false
        var escaped = false
        for scalar in scalars {
            if escaped {
                current.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if scalar == "," && !quoted {
                elements.append(element(current, wasQuoted))
                current = String.UnicodeScalarView()
                wasQuoted = false
            } else {
                current.append(scalar)
            }
        }
        elements.append(element(current, wasQuoted))
        return elements
    }

    private static func element(_ scalars: String.UnicodeScalarView, _ wasQuoted: Bool) -> String? {
        let text = String(scalars)
        return !wasQuoted && text == "NULL" ? nil : text
    }
}

/// A JSON document stored as `json`/`jsonb`, kept as its text.
public struct JSONText: PostgresEncodable, PostgresDecodable, Hashable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public init(postgresText text: String) throws { self.text = text }
    public var postgresText: String { text }
}
