import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// `Schema.migrate` upgrading a database of the previous release: the previous release's
/// schema.sql is kept, unchanged, as `migrations/0005-versions-1-to-5.sql`. That data written
/// before an upgrade reads the same after it is checked through the API
/// (`Tests/BackboneAPITests/UpgradedDataTests.swift`).
@Suite("Upgrading a database of the previous release")
struct SchemaUpgradeTests {
    /// A database exactly as version 5 left it.
    static func version5Database() throws -> String {
        let conninfo = try TestDatabase.version5()
        #expect(try Schema.currentVersion(Connection(conninfo)) == 5)
        return conninfo
    }

    /// schema.sql and the migrations define the same database: a fresh one equals an
    /// upgraded one, table by table, column by column, down to each function's text.
    @Test func aFreshDatabaseEqualsAnUpgradedOne() throws {
        let fresh = try Connection(try TestDatabase.fresh())
        #expect(try Schema.migrate(fresh) == .migrated(from: 0, to: Schema.requiredVersion))
        let upgraded = try Connection(try Self.version5Database())
        #expect(try Schema.migrate(upgraded) == .migrated(from: 5, to: Schema.requiredVersion))
        let (freshCatalog, upgradedCatalog) = (try Self.catalog(fresh), try Self.catalog(upgraded))
        #expect(freshCatalog.count > 100)
        #expect(freshCatalog.filter { !upgradedCatalog.contains($0) } == [], "only in a fresh database")
        #expect(upgradedCatalog.filter { !freshCatalog.contains($0) } == [], "only in an upgraded database")
    }

    @Test func aDatabaseNewerThanTheBuildIsRefused() throws {
        let connection = try Connection(try TestDatabase.fresh())
        _ = try Schema.migrate(connection)
        try connection.execute("INSERT INTO schema_migrations (version) VALUES (\(Schema.requiredVersion + 1))")
        #expect(
            throws: Schema.SchemaError.newerThanBinary(
                database: Schema.requiredVersion + 1, binary: Schema.requiredVersion)
        ) {
            try Schema.migrate(connection)
        }
    }

    /// The database's definition as comparable lines: columns in order, constraints,
    /// indexes, storage options, triggers and the full text of every function.
    static func catalog(_ connection: Connection) throws -> [String] {
        try SchemaCatalog.lines(connection)
    }
}
