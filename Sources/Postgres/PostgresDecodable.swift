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
        // Integer arrays (of rollup partner numbers, say) run to thousands of elements per
        // result: read them without a string per element.
        if Element.self == Int.self, let integers = PostgresArrayLiteral.parseIntegers(text) {
            self = unsafeBitCast(integers, to: [Element].self)  // Element is Int: no element-wise cast
            return
        }
        guard let elements = PostgresArrayLiteral.parse(text) else { throw decodingError(text, as: [Element].self) }
        self = try elements.map { element in
            guard let element else { return try Element.postgresNull() }
            return try Element(postgresText: element)
        }
    }
}

/// Parses PostgreSQL's one-dimensional array output syntax.
enum PostgresArrayLiteral {
    /// `{1,-2,30}` as integers; nil for anything else (NULLs, quoting, overflow), which
    /// the general parser then handles or rejects.
    static func parseIntegers(_ text: String) -> [Int]? {
        var text = text
        return text.withUTF8 { bytes -> [Int]? in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
            var result: [Int] = []
            if bytes.count == 2 { return result }
            result.reserveCapacity(bytes.count / 2)
            var value = 0
            var negative = false
            var digits = 0
            for byte in bytes[1...] {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                    if overflow1 || overflow2 { return nil }
                    value = sum
                    digits += 1
                case UInt8(ascii: "-") where digits == 0 && !negative:
                    negative = true
                case UInt8(ascii: ","), UInt8(ascii: "}"):
                    guard digits > 0 else { return nil }
                    result.append(negative ? -value : value)
                    value = 0
                    negative = false
                    digits = 0
                default:
                    return nil
                }
            }
            return result
        }
    }

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

    /// Encodes a value as JSON.
    public init<T: Encodable>(encoding value: T) throws {
        text = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// Decodes the document into a value.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
