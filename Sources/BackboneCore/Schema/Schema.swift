import Postgres

/// The database schema this build of Backbone needs, and the migration that brings a
/// database to it.
///
/// `schema.sql` is the single definition: idempotent DDL that ends by recording its
/// version in `schema_migrations`. `requiredVersion` must equal that recorded version.
public enum Schema {
    /// The version `schema.sql` records; bump both together.
    public static let requiredVersion = 5

    /// What `migrate` did.
    public enum MigrationOutcome: Equatable, Sendable {
        case alreadyCurrent(version: Int)
        case migrated(from: Int, to: Int)
    }

    public enum SchemaError: Error, CustomStringConvertible, Equatable {
        case newerThanBinary(database: Int, binary: Int)
        case outdated(database: Int, binary: Int)
        case scriptRecordedWrongVersion(recorded: Int, expected: Int)

        public var description: String {
            switch self {
            case .newerThanBinary(let database, let binary):
                return "the database schema is at version \(database), newer than this backbone build (\(binary)); upgrade backbone"
            case .outdated(let database, let binary):
                return "the database schema is at version \(database) but this backbone needs version \(binary); run `backbone migrate`"
            case .scriptRecordedWrongVersion(let recorded, let expected):
                return "schema.sql recorded version \(recorded) but this build expects \(expected)"
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

    /// Applies `script` (the contents of schema.sql) unless the database is already current.
    /// Concurrent migrations wait for each other on an advisory lock.
    public static func migrate(_ connection: Connection, script: String) throws -> MigrationOutcome {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            let before = try currentVersion(connection)
            if before == requiredVersion { return .alreadyCurrent(version: before) }
            if before > requiredVersion { throw SchemaError.newerThanBinary(database: before, binary: requiredVersion) }
            try connection.execute(script)
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

    private static let migrationLockKey = 0x6261_636B_626F_6E65  // "backbone"
}
