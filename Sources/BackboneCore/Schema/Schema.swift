import Postgres

/// The database schema this build of Backbone needs, and the migration that brings a
/// database to it.
///
/// `schema.sql` defines today's tables; an empty database gets it and is stamped at
/// `requiredVersion`. A database at an earlier version gets, in order, the table changes of
/// each file of `migrations/` numbered above its version (`0006-….sql` brings it to version
/// 6), and every version is recorded in `schema_migrations`. Either way `functions.sql`, every
/// function and trigger written once with `CREATE OR REPLACE`, follows in the same
/// transaction, and then the migrations' backfills (docs/schema.md). All ship inside the
/// binary (`EmbeddedFiles`).
public enum Schema {
    /// The version `schema.sql` defines: the number of the last migration; bump both together.
    public static let requiredVersion = 14

    /// One file of `migrations/`: the SQL that brings a database's tables to `version`, and
    /// optionally, after a line starting `-- @backfill`, the data backfill that runs once
    /// every pending migration's table changes and `functions.sql` are applied.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        /// The file's path in the repository (`migrations/0006-rollup-aggregate-once.sql`).
        public var path: String
        public var sql: String

        public init(version: Int, path: String, sql: String) {
            self.version = version
            self.path = path
            self.sql = sql
        }

        /// The line that starts a migration's backfill.
        public static let backfillMarker = "-- @backfill"

        /// What the migration changes in the tables: the file up to its backfill.
        public var tableChanges: String { parts.tables }

        /// The data backfill after the marker; empty when there is none.
        public var backfill: String { parts.backfill }

        private var parts: (tables: String, backfill: String) {
            var lines = sql.split(separator: "\n", omittingEmptySubsequences: false)[...]
            guard let marker = lines.firstIndex(where: { $0.hasPrefix(Self.backfillMarker) }) else { return (sql, "") }
            let backfill = lines[marker...].joined(separator: "\n")
            lines = lines[..<marker]
            return (lines.joined(separator: "\n"), backfill)
        }
    }

    /// `schema.sql`, `functions.sql` and the migrations to them.
    public struct Definition: Sendable {
        public var schema: String
        /// Every function and trigger, each `CREATE OR REPLACE`.
        public var functions: String
        /// In version order.
        public var migrations: [Migration]

        public init(schema: String, functions: String, migrations: [Migration]) {
            self.schema = schema
            self.functions = functions
            self.migrations = migrations.sorted { $0.version < $1.version }
        }

        /// The files shipped inside the binary.
        public static let embedded = Definition(
            schema: EmbeddedFiles.schemaSQL,
            functions: EmbeddedFiles.functionsSQL,
            migrations: EmbeddedFiles.migrationPaths.map { path in
                Migration(version: migrationVersion(path)!, path: path, sql: EmbeddedFiles.byPath[path]!)
            })

        /// The version a migration file's name starts with (`migrations/0006-….sql` → 6).
        public static func migrationVersion(_ path: String) -> Int? {
            let name = path.split(separator: "/").last ?? ""
            return Int(name.prefix { $0.isNumber })
        }
    }

    /// What `migrate` did.
    public enum MigrationOutcome: Equatable, Sendable {
        case alreadyCurrent(version: Int)
        case migrated(from: Int, to: Int)
    }

    public enum SchemaError: Error, CustomStringConvertible, Equatable {
        case newerThanBinary(database: Int, binary: Int)
        case outdated(database: Int, binary: Int)
        case scriptRecordedWrongVersion(recorded: Int, expected: Int)
        case noMigration(from: Int, to: Int)

        public var description: String {
            switch self {
            case .newerThanBinary(let database, let binary):
                return
                    "the database schema is at version \(database), newer than this backbone build (\(binary)); upgrade backbone"
            case .outdated(let database, let binary):
                return
                    "the database schema is at version \(database) but this backbone needs version \(binary); run `backbone migrate`"
            case .scriptRecordedWrongVersion(let recorded, let expected):
                return "the migration recorded version \(recorded) but this build expects \(expected)"
            case .noMigration(let from, let to):
                return "this backbone build has no migration from schema version \(from) to \(to)"
            }
        }
    }

    /// The version recorded in the database; 0 for an empty database.
    public static func currentVersion(_ connection: Connection) throws -> Int {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard try exists[0].decode(Bool.self, at: 0) else { return 0 }
        let rows = try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return try rows[0].decode(Int.self, at: 0)
    }

    /// Brings the database to `requiredVersion` in one transaction: `schema.sql` for an
    /// empty database, else the table changes of the migrations above its version, in
    /// order; then `functions.sql`, and then the backfills of those migrations, in order.
    /// A current database gets `functions.sql` alone (a no-op unless a function changed).
    /// Concurrent migrations wait for each other on an advisory lock.
    public static func migrate(_ connection: Connection, definition: Definition = .embedded) throws -> MigrationOutcome
    {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            let before = try currentVersion(connection)
            if before > requiredVersion { throw SchemaError.newerThanBinary(database: before, binary: requiredVersion) }
            if before == requiredVersion {
                try connection.execute(definition.functions)
                return .alreadyCurrent(version: before)
            }
            if before == 0 {
                try connection.execute(definition.schema)
                try connection.execute(definition.functions)
                try record(requiredVersion, connection)
            } else {
                let pending = definition.migrations.filter { $0.version > before }
                guard pending.last?.version == requiredVersion else {
                    throw SchemaError.noMigration(from: before, to: requiredVersion)
                }
                for migration in pending {
                    try connection.execute(migration.tableChanges)
                    try record(migration.version, connection)
                }
                // Every function meets the tables it was written for; backfills may call them.
                try connection.execute(definition.functions)
                for migration in pending where !migration.backfill.isEmpty {
                    try connection.execute(migration.backfill)
                }
            }
            let after = try currentVersion(connection)
            guard after == requiredVersion else {
                throw SchemaError.scriptRecordedWrongVersion(recorded: after, expected: requiredVersion)
            }
            return .migrated(from: before, to: after)
        }
    }

    /// Throws unless the database is at exactly the version this build needs.
    public static func verify(_ connection: Connection) throws {
        let version = try currentVersion(connection)
        if version < requiredVersion { throw SchemaError.outdated(database: version, binary: requiredVersion) }
        if version > requiredVersion { throw SchemaError.newerThanBinary(database: version, binary: requiredVersion) }
    }

    private static func record(_ version: Int, _ connection: Connection) throws {
        try connection.query("INSERT INTO schema_migrations (version) VALUES (\(version)) ON CONFLICT DO NOTHING")
    }

    private static let migrationLockKey = 0x6261_636B_626F_6E65  // "backbone"
}
