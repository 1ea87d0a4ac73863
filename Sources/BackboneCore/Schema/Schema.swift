import Postgres

/// The database schema this build of Backbone needs, and the migration that brings a
/// database to it.
///
/// `schema.sql` defines today's database; an empty database gets it and is stamped at
/// `requiredVersion`. A database at an earlier version gets, in order, each file of
/// `migrations/` numbered above its version (`0006-….sql` brings it to version 6), and
/// every version is recorded in `schema_migrations`. Both ship inside the binary
/// (`EmbeddedFiles`).
public enum Schema {
    /// The version `schema.sql` defines: the number of the last migration; bump both together.
    public static let requiredVersion = 10

    /// One file of `migrations/`: the SQL that brings a database to `version`.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        /// The file's path in the repository (`migrations/0006-rollup-aggregate-once.sql`).
        public var path: String
        public var sql: String
    }

    /// `schema.sql` and the migrations to it.
    public struct Definition: Sendable {
        public var schema: String
        /// In version order.
        public var migrations: [Migration]

        public init(schema: String, migrations: [Migration]) {
            self.schema = schema
            self.migrations = migrations.sorted { $0.version < $1.version }
        }

        /// The files shipped inside the binary.
        public static let embedded = Definition(
            schema: EmbeddedFiles.schemaSQL,
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
                return "the database schema is at version \(database), newer than this backbone build (\(binary)); upgrade backbone"
            case .outdated(let database, let binary):
                return "the database schema is at version \(database) but this backbone needs version \(binary); run `backbone migrate`"
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
    /// empty database, else the migrations above its version, in order; a no-op when it is
    /// current. Concurrent migrations wait for each other on an advisory lock.
    public static func migrate(_ connection: Connection, definition: Definition = .embedded) throws -> MigrationOutcome {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            let before = try currentVersion(connection)
            if before == requiredVersion { return .alreadyCurrent(version: before) }
            if before > requiredVersion { throw SchemaError.newerThanBinary(database: before, binary: requiredVersion) }
            if before == 0 {
                try connection.execute(definition.schema)
                try record(requiredVersion, connection)
            } else {
                let pending = definition.migrations.filter { $0.version > before }
                guard pending.last?.version == requiredVersion else {
                    throw SchemaError.noMigration(from: before, to: requiredVersion)
                }
                for migration in pending {
                    try connection.execute(migration.sql)
                    try record(migration.version, connection)
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
