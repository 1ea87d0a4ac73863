import Foundation
import Postgres

/// The PostgreSQL that `scripts/test.sh` starts for the tests.
public enum TestDatabase {
    /// Why a test that needs PostgreSQL cannot run: thrown, so that each such test fails
    /// with this message (a skip would pass a misconfigured CI unseen) and every test that
    /// needs no database still runs.
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            """
            BACKBONE_TEST_DATABASE_URL is not set. Set it to the libpq conninfo of a PostgreSQL \
            database the tests may use, and BACKBONE_TEST_ADMIN_URL to one whose user may CREATE \
            DATABASE (e.g. BACKBONE_TEST_DATABASE_URL="host=/tmp/pg dbname=backbone_test \
            user=postgres" BACKBONE_TEST_ADMIN_URL="host=/tmp/pg dbname=postgres user=postgres"), \
            or run scripts/test.sh, which starts a throwaway PostgreSQL and sets both.
            """
        }
    }

    /// The shared test database; tests that need isolation make their own with `fresh()`.
    /// Throws ``NotConfigured`` when BACKBONE_TEST_DATABASE_URL is not set.
    public static var conninfo: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["BACKBONE_TEST_DATABASE_URL"], !url.isEmpty else {
                throw NotConfigured()
            }
            return url
        }
    }

    static var adminConninfo: String {
        get throws {
            try ProcessInfo.processInfo.environment["BACKBONE_TEST_ADMIN_URL"] ?? conninfo
        }
    }

    /// Creates an empty database and returns its conninfo.
    public static func fresh() throws -> String {
        let shared = try conninfo
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try Connection(try adminConninfo)
        try admin.execute("CREATE DATABASE \(quoteIdentifier(name))")
        // Whatever the shared database is called, the fresh one takes its place.
        let words = shared.split(separator: " ").filter { !$0.hasPrefix("dbname=") }
        return (words + ["dbname=\(name)"]).joined(separator: " ")
    }

    /// A fresh database exactly as version 5 left it: the previous release's schema.sql,
    /// kept unchanged as `Tests/fixtures/schema-version-5.sql` (for the upgrade tests).
    public static func version5() throws -> String {
        let conninfo = try fresh()
        try Connection(conninfo).execute(try String(contentsOf: SchemaCatalog.version5, encoding: .utf8))
        return conninfo
    }

    /// A new connection to the shared test database.
    public static func connect() throws -> Connection {
        try Connection(try conninfo)
    }

    /// A unique table name, so tests running in parallel never share a table.
    public static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }
}
