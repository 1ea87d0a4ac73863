import Foundation
import Postgres

/// The PostgreSQL that `scripts/test.sh` starts for the tests.
public enum TestDatabase {
    /// The shared test database; tests that need isolation make their own with `fresh()`.
    public static var conninfo: String {
        guard let url = ProcessInfo.processInfo.environment["BACKBONE_TEST_DATABASE_URL"] else {
            fatalError("BACKBONE_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL")
        }
        return url
    }

    static var adminConninfo: String {
        ProcessInfo.processInfo.environment["BACKBONE_TEST_ADMIN_URL"] ?? conninfo
    }

    /// Creates an empty database and returns its conninfo.
    public static func fresh() throws -> String {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try Connection(adminConninfo)
        try admin.execute("CREATE DATABASE \(quoteIdentifier(name))")
        // Whatever the shared database is called, the fresh one takes its place.
        let words = conninfo.split(separator: " ").filter { !$0.hasPrefix("dbname=") }
        return (words + ["dbname=\(name)"]).joined(separator: " ")
    }

    /// A new connection to the shared test database.
    public static func connect() throws -> Connection {
        try Connection(conninfo)
    }

    /// A unique table name, so tests running in parallel never share a table.
    public static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }
}
