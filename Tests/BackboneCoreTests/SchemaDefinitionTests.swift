import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// Every function and trigger is written once, in functions.sql, and every `migrate` applies
/// it: a database created today and one upgraded from any earlier version end up the same.
@Suite("Database functions written once")
struct SchemaDefinitionTests {
    static let definition = Schema.Definition.embedded

    /// The names `functions.sql` creates after `CREATE OR REPLACE <kind>`.
    static func created(_ kind: String) -> Set<String> {
        let pattern = try! Regex("CREATE OR REPLACE \(kind) ([a-z_]+)")
        return Set(definition.functions.matches(of: pattern).map { String($0.output[1].substring!) })
    }

    @Test func onlyFunctionsSQLCreatesFunctionsAndTriggers() throws {
        let creates = try Regex("(?i)\\bCREATE\\s+(OR\\s+REPLACE\\s+)?(FUNCTION|TRIGGER|PROCEDURE)\\b")
        for (path, text) in [("schema.sql", Self.definition.schema)]
            + Self.definition.migrations.map({ ($0.path, $0.sql) })
        {
            #expect(
                text.firstMatch(of: creates) == nil, "\(path) creates a function or trigger: write it in functions.sql")
        }
        let plain = try Regex("(?i)\\bCREATE\\s+(FUNCTION|TRIGGER|TABLE|INDEX|UNIQUE|TYPE|VIEW)\\b")
        #expect(
            Self.definition.functions.firstMatch(of: plain) == nil,
            "functions.sql holds CREATE OR REPLACE functions and triggers only")
        #expect(Self.created("FUNCTION").count >= 9)
        #expect(Self.created("TRIGGER").count >= 18)
    }

    /// The database has exactly the functions and triggers functions.sql names.
    @Test func theDatabaseHoldsWhatFunctionsSQLCreates() throws {
        let connection = try Connection(try TestDatabase.fresh())
        _ = try Schema.migrate(connection)
        let functions = try connection.query("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
            .map { try $0.decode(String.self, at: 0) }
        let triggers = try connection.query("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").map {
            try $0.decode(String.self, at: 0)
        }
        #expect(Set(functions) == Self.created("FUNCTION"))
        #expect(functions.count == Set(functions).count, "one signature per function name")
        #expect(Set(triggers) == Self.created("TRIGGER"))
    }

    /// A database at every earlier version (the previous release's own schema.sql, then the
    /// table changes up to that version) upgrades to what schema.sql and functions.sql create.
    @Test(arguments: 5..<Schema.requiredVersion)
    func anUpgradeFromEveryVersionEqualsAFreshDatabase(version: Int) throws {
        let fresh = try Connection(try TestDatabase.fresh())
        #expect(try Schema.migrate(fresh) == .migrated(from: 0, to: Schema.requiredVersion))
        let old = try Connection(try TestDatabase.fresh())
        try old.execute(try String(contentsOf: SchemaCatalog.version5, encoding: .utf8))
        for migration in Self.definition.migrations where migration.version > 5 && migration.version <= version {
            try old.execute(migration.tableChanges)
            try old.execute("INSERT INTO schema_migrations (version) VALUES (\(migration.version))")
        }
        #expect(try Schema.currentVersion(old) == version)
        #expect(try Schema.migrate(old) == .migrated(from: version, to: Schema.requiredVersion))
        let (expected, upgraded) = (try SchemaCatalog.lines(fresh), try SchemaCatalog.lines(old))
        #expect(expected.count > 100)
        #expect(expected.filter { !upgraded.contains($0) } == [], "only in a fresh database")
        #expect(
            upgraded.filter { !expected.contains($0) } == [], "only in the database upgraded from version \(version)")
    }

    /// A current database gets functions.sql again: a function changed by hand (or by an
    /// older build) is put back, and nothing else moves.
    @Test func everyMigrateAppliesFunctionsSQL() throws {
        let connection = try Connection(try TestDatabase.fresh())
        _ = try Schema.migrate(connection)
        let before = try SchemaCatalog.lines(connection)
        try connection.execute(
            "CREATE OR REPLACE FUNCTION ratio_scale(value_type text, aggregation text) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$ SELECT 7::double precision $$"
        )
        try connection.execute("DROP TRIGGER agendas_changed ON agendas")
        #expect(try SchemaCatalog.lines(connection) != before)
        #expect(try Schema.migrate(connection) == .alreadyCurrent(version: Schema.requiredVersion))
        #expect(try SchemaCatalog.lines(connection) == before)
    }

    /// A migration's backfill starts at its marker line; the table changes are what precedes it.
    @Test func aMigrationSplitsAtItsBackfill() {
        let migration = Schema.Migration(
            version: 99, path: "migrations/0099-x.sql",
            sql: "ALTER TABLE t ADD c int;\n-- @backfill: later\nUPDATE t SET c = 1;")
        #expect(migration.tableChanges == "ALTER TABLE t ADD c int;")
        #expect(migration.backfill == "-- @backfill: later\nUPDATE t SET c = 1;")
        let plain = Schema.Migration(version: 99, path: "migrations/0099-x.sql", sql: "ALTER TABLE t ADD c int;")
        #expect(plain.tableChanges == plain.sql && plain.backfill.isEmpty)
    }
}
