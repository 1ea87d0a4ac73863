import BackboneCore
import Postgres

/// Remembers the response to a request sent with an `Idempotency-Key`, so that a retry
/// of the same request gets the same answer without doing the work again.
///
/// Used inside the transaction that does the work: the record and the work commit
/// together, and concurrent requests with the same key wait for each other.
enum Idempotency {
    struct StoredResponse: Sendable {
        var status: Int
        var body: String

        init(status: Int, body: String) {
            self.status = status
            self.body = body
        }
    }

    /// The earlier response to this key, if any; a different request under the same key is refused.
    static func replay(_ connection: Connection, keyID: String, key: String, request: String) throws -> StoredResponse? {
        try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(keyID) || ':' || \(key)))")
        let rows = try connection.query(
            """
            SELECT request_hash = sha256(convert_to(\(request), 'UTF8')), status, response_body
            FROM idempotency_keys WHERE api_key_id = \(keyID) AND key = \(key)
            """)
        guard let row = rows.first else { return nil }
        let (same, status, body) = try row.decode((Bool, Int, String).self)
        guard same else {
            throw DomainError.conflict(
                code: "idempotency-key-reused",
                "Idempotency-Key \(key) was already used for a different request; use a new key for new content.")
        }
        return StoredResponse(status: status, body: body)
    }

    static func store(_ connection: Connection, keyID: String, key: String, request: String, response: StoredResponse) throws {
        try connection.query(
            """
            INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, response_body)
            VALUES (\(keyID), \(key), sha256(convert_to(\(request), 'UTF8')), \(response.status), \(response.body))
            """)
    }
}
