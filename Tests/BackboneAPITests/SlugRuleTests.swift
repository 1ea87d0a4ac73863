import BackboneCore
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

/// The slug rule lives twice: in Swift, where a request is refused with a clear problem, and
/// in the database's CHECK constraints, the last line of defence. They must agree.
@Suite("The slug rule in Swift and in SQL")
struct SlugRuleTests {
    @Test func everySlugConstraintAcceptsExactlyWhatSwiftAccepts() throws {
        let connection = try Connection(try TestDatabase.fresh())
        _ = try Schema.migrate(connection)
        let definitions = try connection.query(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname LIKE '%\\_slug' ORDER BY conname"
        ).map { try $0.decode(String.self, at: 0) }
        #expect(definitions.count == 5, "agendas, indicators, partners, neighborhoods and validation rules")
        let patterns = Set(definitions.compactMap { $0.split(separator: "'").dropFirst().first.map(String.init) })
        #expect(patterns.count == 1, "one pattern for every registry key: \(patterns)")
        let pattern = try #require(patterns.first)

        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("az09_-AZ. é/")
        var candidates = [
            "", "a", "0", "_a", "-a", "a-", "a_", "A", "é", String(repeating: "a", count: 64),
            String(repeating: "a", count: 65),
        ]
        for _ in 0..<400 {
            let length = Int.random(in: 0...70, using: &generator)
            candidates.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for candidate in candidates {
            let sql = try connection.query("SELECT \(candidate) ~ \(pattern)")[0].decode(Bool.self, at: 0)
            #expect(Slug.isValid(candidate) == sql, "\"\(candidate)\": Swift \(Slug.isValid(candidate)), SQL \(sql)")
        }
    }
}
