import Foundation

/// A Swift type that can be read from a text-format result column.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value from PostgreSQL's text output.
    init(postgresText text: String) throws
    /// The value for SQL NULL; only optionals have one.
    static func postgresNull() throws -> Self
    /// Decodes a non-NULL value from its text as libpq holds it: `length` bytes at `bytes`,
    /// NUL-terminated. By default through a `String`; numbers read the bytes in place.
    init(postgresBytes bytes: UnsafePointer<CChar>, length: Int) throws
}

extension PostgresDecodable {
    public static func postgresNull() throws -> Self {
        throw PostgresError(.decoding, "unexpected NULL for \(Self.self)")
    }

    public init(postgresBytes bytes: UnsafePointer<CChar>, length: Int) throws {
        try self.init(postgresText: String(cString: bytes))
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String) throws {
        self = .some(try Wrapped(postgresText: text))
    }

    public init(postgresBytes bytes: UnsafePointer<CChar>, length: Int) throws {
        self = .some(try Wrapped(postgresBytes: bytes, length: length))
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

    /// Decimal digits with an optional sign, as PostgreSQL writes integers, read in place.
    public init(postgresBytes bytes: UnsafePointer<CChar>, length: Int) throws {
        let text = UnsafeRawBufferPointer(start: bytes, count: length).bindMemory(to: UInt8.self)
        let negative = text.first == UInt8(ascii: "-")
        let digits = text.dropFirst(negative || text.first == UInt8(ascii: "+") ? 1 : 0)
        var value: Self = 0
        var overflow = digits.isEmpty
        for byte in digits where !overflow {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else {
                overflow = true
                break
            }
            let shifted = value.multipliedReportingOverflow(by: 10)
            let next =
                negative
                ? shifted.partialValue.subtractingReportingOverflow(Self(digit))
                : shifted.partialValue.addingReportingOverflow(Self(digit))
            overflow = shifted.overflow || next.overflow
            value = next.partialValue
        }
        guard !overflow else { throw decodingError(String(cString: bytes), as: Self.self) }
        self = value
    }
}

extension Int: PostgresDecodable {}
extension Int64: PostgresDecodable {}
extension Int32: PostgresDecodable {}

extension Double: PostgresDecodable {
    /// PostgreSQL's float text (`1.5`, `1e+20`, `NaN`, `Infinity`, `-Infinity`) read in place
    /// by `strtod`, which takes each of them whole. Text it does not take whole (or that
    /// does not start as PostgreSQL's does) goes through `init(postgresText:)`, which
    /// refuses what is not a number: a process locale whose decimal point is not `.` cannot
    /// make a number read differently.
    public init(postgresBytes bytes: UnsafePointer<CChar>, length: Int) throws {
        var end: UnsafeMutablePointer<CChar>?
        let value = strtod(bytes, &end)
        let first = UInt8(bitPattern: bytes.pointee)
        guard length > 0, end == UnsafeMutablePointer(mutating: bytes + length),
            first == UInt8(ascii: "-") || first == UInt8(ascii: "N") || first == UInt8(ascii: "I")
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else {
            try self.init(postgresText: String(cString: bytes))
            return
        }
        self = value
    }

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
