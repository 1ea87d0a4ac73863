import Postgres

/// Each key's last write, kept on the primary so that any server process can send that
/// key's reads to a replica only once the replica has the write (docs/SCALING.md).
public enum WriteMarks {
    /// What the primary says of a key before one of its reads: the WAL position its last
    /// write reached (nil: no write recorded) and whether the key is still live there.
    public struct Freshness: Sendable, Equatable {
        public var mark: String?
        public var live: Bool
    }

    /// Records that `keyID` has just written: the primary's WAL insert position now is past
    /// the commit of every write the key was told succeeded. Call it on the primary after
    /// the write's transaction committed.
    public static func record(_ connection: Connection, keyID: String) throws {
        try connection.query(
            """
            INSERT INTO write_marks (key_id, lsn) VALUES (\(keyID), pg_current_wal_insert_lsn())
            ON CONFLICT (key_id) DO UPDATE SET lsn = EXCLUDED.lsn, written_at = now()
            """)
    }

    /// The key's mark and whether it is live, read on the primary in one statement.
    public static func freshness(_ connection: Connection, keyID: String) throws -> Freshness {
        let (mark, live) = try connection.query(
            """
            SELECT (SELECT lsn::text FROM write_marks WHERE key_id = \(keyID)),
                   EXISTS (SELECT FROM api_keys WHERE id = \(keyID) AND revoked_at IS NULL)
            """)[0].decode((String?, Bool).self)
        return Freshness(mark: mark, live: live)
    }
}
