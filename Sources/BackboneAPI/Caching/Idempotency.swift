import BackboneCore
import Foundation
import HTTPServer
import JSON
import NIOHTTP1
import Postgres

/// Remembers the response to a request sent with an `Idempotency-Key`, so that a retry
/// of the same request gets the same answer without doing the work again.
///
/// The record is read and written inside the transaction that does the work: the record
/// and the work commit together, and concurrent requests with the same key wait for each other.
enum Idempotency {
    struct StoredResponse: Sendable {
        var status: Int
        var body: String
    }

    /// Runs `work` in one transaction and answers `200` with its result as JSON. Under an
    /// `Idempotency-Key` the first answer is stored with the work and replayed (marked
    /// `Idempotent-Replayed: true`) to a repeat of the same request; the result is nil then,
    /// as nothing was done.
    static func respond<Answer: JSONRepresentable & Sendable>(
        to request: HTTPRequest, keyID: String, pool: ConnectionPool,
        _ work: @escaping @Sendable (Connection) throws -> Answer
    ) async throws -> (response: HTTPResponse, result: Answer?) {
        let key = try validated(request.headers.first(name: "idempotency-key"))
        let (stored, result) = try await once(key: key, keyID: keyID, pool: pool, fingerprint: fingerprint(of: request))
        {
            connection in
            let result = try work(connection)
            return (StoredResponse(status: 200, body: String(decoding: result.json.jsonBytes, as: UTF8.self)), result)
        }
        var response = HTTPResponse(
            status: HTTPResponseStatus(statusCode: stored.status), contentType: "application/json",
            body: stored.body.utf8)
        if result == nil { response.headers.add(name: "idempotent-replayed", value: "true") }
        return (response, result)
    }

    /// Runs `work` in one transaction; under a `key` its answer is stored with the work and
    /// returned again (with a nil result, as nothing was done) to a repeat whose
    /// `fingerprint` is the same. The API's submissions and the dashboard's upload page
    /// (whose answer is the page it shows) both come through here.
    static func once<Result: Sendable>(
        key: String?, keyID: String, pool: ConnectionPool, fingerprint: @escaping @autoclosure @Sendable () -> String,
        _ work: @escaping @Sendable (Connection) throws -> (StoredResponse, Result)
    ) async throws -> (StoredResponse, Result?) {
        try await database(pool) { connection -> (StoredResponse, Result?) in
            // Only a request with a key needs its fingerprint (for the API, a copy of the
            // body, made here on the pool's thread rather than on the event loop).
            let request = key == nil ? "" : fingerprint()
            if let key, let earlier = try replay(connection, keyID: keyID, key: key, request: request) {
                return (earlier, nil)
            }
            let (answer, result) = try work(connection)
            if let key { try store(connection, keyID: keyID, key: key, request: request, response: answer) }
            return (answer, result)
        }
    }

    /// An `Idempotency-Key` as sent (nil when none was): 1 to 255 characters.
    static func validated(_ key: String?) throws -> String? {
        if let key, key.isEmpty || key.count > 255 {
            throw Problem.badRequest(
                "Idempotency-Key must be 1 to 255 characters.", field: "Idempotency-Key",
                code: "invalid-idempotency-key")
        }
        return key
    }

    /// What makes two requests under one key the same request: method, query, content type and body.
    private static func fingerprint(of request: HTTPRequest) -> String {
        "\(request.method.rawValue) \(request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")) \(request.contentType ?? "")\n"
            + String(decoding: request.body.readableBytesView, as: UTF8.self)
    }

    /// The earlier response to this key, if any; a different request under the same key is refused.
    private static func replay(_ connection: Connection, keyID: String, key: String, request: String) throws
        -> StoredResponse?
    {
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

    private static func store(
        _ connection: Connection, keyID: String, key: String, request: String, response: StoredResponse
    ) throws {
        try connection.query(
            """
            INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, response_body)
            VALUES (\(keyID), \(key), sha256(convert_to(\(request), 'UTF8')), \(response.status), \(response.body))
            """)
    }
}
