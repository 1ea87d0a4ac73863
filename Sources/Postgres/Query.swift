import Foundation

/// A SQL statement whose interpolated values travel as parameters, never as SQL text.
///
///     let query: Query = "SELECT name FROM partners WHERE id = \(partnerID)"
///
/// becomes `SELECT name FROM partners WHERE id = $1` with `partnerID` bound to `$1`,
/// so a value can't change the statement. Fragments compose (`"WHERE \(filter)"` with
/// `filter` a `Query`), and `\(identifier:)` quotes a name that comes from code.
public struct Query: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    @usableFromInline
    enum Segment: Sendable {
        case sql(String)
        case bind(String?)
    }

    var segments: [Segment]

    public init(stringLiteral value: String) {
        segments = [.sql(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
    }

    /// A statement made of trusted SQL text only (no parameters).
    public init(unsafeSQL sql: String) {
        segments = [.sql(sql)]
    }

    /// The statement text with `$n` placeholders, and the parameter values in order.
    public func render() -> (sql: String, binds: [String?]) {
        var sql = ""
        var binds: [String?] = []
        for segment in segments {
            switch segment {
            case .sql(let text): sql += text
            case .bind(let value):
                binds.append(value)
                sql += "$\(binds.count)"
            }
        }
        return (sql, binds)
    }

    public var description: String { render().sql }

    /// A lone parameter: `$n` bound to `value` (NULL for `nil`).
    public static func bind(_ value: (any PostgresEncodable)?) -> Query {
        var query: Query = ""
        query.segments = [.bind(value?.postgresText)]
        return query
    }

    /// Appends another query (its text and its parameters).
    public static func + (lhs: Query, rhs: Query) -> Query {
        var result = lhs
        result.segments += rhs.segments
        return result
    }

    /// Joins fragments with a separator, e.g. filters with `" AND "`.
    public static func joined(_ parts: [Query], separator: String) -> Query {
        var result: Query = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { result.segments.append(.sql(separator)) }
            result.segments += part.segments
        }
        return result
    }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        @usableFromInline
        var segments: [Segment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { segments.append(.sql(literal)) }
        }

        /// A value, sent as a parameter. Inlinable, so that the caller's concrete type is
        /// known when its text is made (arrays of thousands of values especially).
        @inlinable
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            segments.append(.bind(value.postgresText))
        }

        /// An optional value; `nil` is sent as NULL.
        @inlinable
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            segments.append(.bind(value?.postgresText))
        }

        /// Another query, spliced in with its parameters.
        public mutating func appendInterpolation(_ fragment: Query) {
            segments += fragment.segments
        }

        /// SQL text built by code from fixed names (never from input).
        public mutating func appendInterpolation(unsafe sql: String) {
            appendInterpolation(Query(unsafeSQL: sql))
        }

        /// A table or column name chosen by code, quoted as an identifier.
        public mutating func appendInterpolation(identifier: String) {
            segments.append(.sql(quoteIdentifier(identifier)))
        }
    }
}

/// Quotes a name as a SQL identifier (`"name"`, with inner quotes doubled).
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
