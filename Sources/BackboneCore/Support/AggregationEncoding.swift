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
