import Aggregation
import Postgres

// How values of the Aggregation module travel to and from PostgreSQL.

extension Day: PostgresEncodable, PostgresArrayElement {
    /// `YYYY-MM-DD`, a `date` literal.
    public var postgresText: String { description }
}

extension Day {
    /// The same day as a `date` column value.
    public var postgresDate: PostgresDate { PostgresDate(year: year, month: month, day: day) }
}

extension PostgresDate {
    /// The same day for period arithmetic.
    public var calendarDay: Day { Day(year: year, month: month, day: day) }
}

extension PartnerSet: PostgresDecodable {
    /// Reads a `text[]` of partner ids; slugs come unquoted (save `null`), so the usual
    /// case splits on commas without building an array of optionals first.
    public init(postgresText text: String) throws {
        guard text.first == "{", text.last == "}" else { throw PostgresError(.decoding, "not an array: \(text.prefix(40))") }
        if text.contains("\"") {
            self.init(try [String](postgresText: text))
            return
        }
        let inner = text.dropFirst().dropLast()
        self.init(inner.isEmpty ? [] : inner.split(separator: ",").lazy.map { String($0) })
    }
}
