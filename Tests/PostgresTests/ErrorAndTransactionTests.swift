import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Server errors and transactions")
struct ErrorAndTransactionTests {
    let connection: Connection
    let table: String

    init() throws {
        connection = try TestDatabase.connect()
        table = TestDatabase.uniqueName("items")
        try connection.execute(
            """
            CREATE TEMP TABLE \(table) (
                code text CONSTRAINT \(table)_code_key UNIQUE,
                amount integer CONSTRAINT \(table)_amount_check CHECK (amount >= 0)
            )
            """)
    }

    func count() throws -> Int {
        try connection.query("SELECT count(*) FROM \(identifier: table)")[0].decode(Int.self, at: 0)
    }

    @Test func uniqueViolationCarriesSQLStateAndConstraint() throws {
        try connection.query("INSERT INTO \(identifier: table) VALUES ('a', 1)")
        let error = #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO \(identifier: table) VALUES ('a', 2)")
        }
        #expect(error?.sqlState == "23505")
        #expect(error?.isUniqueViolation == true)
        #expect(error?.constraint == "\(table)_code_key")
        #expect(error?.detail?.contains("(code)=(a)") == true)
    }

    @Test func checkViolationCarriesSQLStateAndConstraint() throws {
        let error = #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO \(identifier: table) VALUES ('b', -1)")
        }
        #expect(error?.isCheckViolation == true)
        #expect(error?.constraint == "\(table)_amount_check")
    }

    @Test func syntaxErrorIsAServerError() throws {
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(error?.kind == .server)
        #expect(error?.sqlState == "42601")
    }

    struct Boom: Error {}

    @Test func throwingTransactionLeavesNothingBehind() throws {
        #expect(throws: Boom.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO \(identifier: table) VALUES ('x', 1)")
                try connection.query("INSERT INTO \(identifier: table) VALUES ('y', 2)")
                throw Boom()
            }
        }
        #expect(try count() == 0)
        #expect(!connection.isInTransaction)
    }

    @Test func failingStatementRollsBackTheWholeTransaction() throws {
        #expect(throws: PostgresError.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO \(identifier: table) VALUES ('x', 1)")
                try connection.query("INSERT INTO \(identifier: table) VALUES ('x', 2)")
            }
        }
        #expect(try count() == 0)
    }

    @Test func committedTransactionKeepsItsRows() throws {
        let inserted = try connection.transaction { connection in
            try connection.query("INSERT INTO \(identifier: table) VALUES ('x', 1), ('y', 2)").affectedRows
        }
        #expect(inserted == 2)
        #expect(try count() == 2)
    }

    @Test func failedSavepointUndoesOnlyItsOwnWork() throws {
        try connection.transaction { connection in
            try connection.query("INSERT INTO \(identifier: table) VALUES ('kept', 1)")
            #expect(throws: PostgresError.self) {
                try connection.savepoint { connection in
                    try connection.query("INSERT INTO \(identifier: table) VALUES ('undone', 1)")
                    try connection.query("INSERT INTO \(identifier: table) VALUES ('kept', 2)")
                }
            }
            // The transaction goes on after the failed savepoint.
            try connection.savepoint { try $0.query("INSERT INTO \(identifier: table) VALUES ('after', 3)") }
        }
        let codes = try connection.query("SELECT code FROM \(identifier: table) ORDER BY code").map {
            try $0.decode(String.self, at: 0)
        }
        #expect(codes == ["after", "kept"])
    }
}
