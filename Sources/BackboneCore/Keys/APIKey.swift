import Foundation
import Postgres

/// What a key may do. See docs/domain.md#roles-and-protection.
public enum Role: String, Sendable, CaseIterable {
    /// The backbone organisation: everything.
    case coordinator
    /// One partner organisation: submits and reads its own data, reads aggregates.
    case partner
    /// Funders and dashboards: read the registry and aggregates only.
    case viewer
}

/// An API key as stored: never its secret, only a hash of it.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var role: Role
    public var partner: String?
    public var name: String?
    public var createdAt: Date
    public var revokedAt: Date?
}

/// A freshly created key with the secret to show its owner once.
public struct IssuedAPIKey: Sendable {
    public var key: APIKey
    public var secret: String
}

/// Creates, finds and revokes API keys.
public enum APIKeys {
    /// Makes a key and returns its secret; only the secret's SHA-256 is stored.
    public static func create(_ connection: Connection, role: Role, partner: String?, name: String?) throws
        -> IssuedAPIKey
    {
        let secret = "bbk_" + randomToken(bytes: 24)
        let id = "key_" + randomToken(bytes: 6)
        let rows: QueryResult
        do {
            rows = try connection.query(
                """
                INSERT INTO api_keys (id, role, partner_id, name, secret_hash)
                VALUES (\(id), \(role.rawValue), \(partner), \(name), sha256(convert_to(\(secret), 'UTF8')))
                RETURNING id, role, partner_id, name, created_at, revoked_at
                """)
        } catch let error as PostgresError where error.isForeignKeyViolation {
            throw DomainError.invalid(field: "partner", code: "unknown-reference", "no partner \(partner ?? "") exists")
        }
        return IssuedAPIKey(key: try decode(rows[0]), secret: secret)
    }

    /// The live (not revoked) key with this secret, if any.
    public static func authenticate(_ connection: Connection, secret: String) throws -> APIKey? {
        let rows = try connection.query(
            """
            SELECT id, role, partner_id, name, created_at, revoked_at FROM api_keys
            WHERE secret_hash = sha256(convert_to(\(secret), 'UTF8')) AND revoked_at IS NULL
            """)
        return try rows.first.map(decode)
    }

    /// Keys in id order after `after`, without secrets.
    public static func list(_ connection: Connection, after: String?, limit: Int) throws -> [APIKey] {
        let rows = try connection.query(
            """
            SELECT id, role, partner_id, name, created_at, revoked_at FROM api_keys
            WHERE \(after)::text IS NULL OR id > \(after)::text ORDER BY id LIMIT \(limit)
            """)
        return try rows.map(decode)
    }

    public static func find(_ connection: Connection, id: String) throws -> APIKey? {
        let rows = try connection.query(
            "SELECT id, role, partner_id, name, created_at, revoked_at FROM api_keys WHERE id = \(id)")
        return try rows.first.map(decode)
    }

    /// Revokes a key (idempotently); it stops authenticating at once.
    public static func revoke(_ connection: Connection, id: String) throws -> APIKey? {
        let rows = try connection.query(
            """
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id)
            RETURNING id, role, partner_id, name, created_at, revoked_at
            """)
        return try rows.first.map(decode)
    }

    static func decode(_ row: Row) throws -> APIKey {
        let (id, role, partner, name, createdAt, revokedAt) = try row.decode(
            (String, String, String?, String?, Date, Date?).self)
        guard let role = Role(rawValue: role) else { throw PostgresError(.decoding, "unknown role \(role)") }
        return APIKey(id: id, role: role, partner: partner, name: name, createdAt: createdAt, revokedAt: revokedAt)
    }

    /// URL-safe random text from the system's secure generator.
    static func randomToken(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
