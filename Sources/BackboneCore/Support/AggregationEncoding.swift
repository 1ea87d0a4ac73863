import Aggregation
import Postgres

// How values of the Aggregation module travel to and from PostgreSQL.

extension Day: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    /// `YYYY-MM-DD`, a `date` literal.
    public var postgresText: String { description }

    public init(postgresText text: String) throws {
        guard let day = Day(text) else {
            throw PostgresError(.decoding, "cannot read \(text.debugDescription) as a date")
        }
        self = day
    }
}
