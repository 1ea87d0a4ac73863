import BackboneCore
import Foundation
import HTTPServer
import Postgres

/// Resolves `Authorization: Bearer <secret>` to a live key, on every request, so a
/// revoked key stops working at once.
struct Authenticator: Sendable {
    let pool: ConnectionPool
    /// Where keys are looked up while the primary cannot be reached (read-only mode).
    var replica: ConnectionPool? = nil
    /// Live keys by secret; emptied whenever any key changes, in any server process.
    let cache: ChangeAwareCache<String, APIKey>

    func caller(of request: HTTPRequest) async throws -> Caller {
        guard let caller = try await caller(secret: try Self.secret(of: request)) else {
            throw Self.unknownOrRevoked
        }
        return Self.noted(caller, in: request)
    }

    /// The caller when the key is in the cache, without waiting; `nil` when finding it
    /// needs the database (then `caller(of:)` does).
    func cachedCaller(of request: HTTPRequest) throws -> Caller? {
        guard let key = cache.cachedValue(for: try Self.secret(of: request)) else { return nil }
        return Self.noted(Caller(key: key), in: request)
    }

    /// The secret of `Authorization: Bearer <secret>`.
    private static func secret(of request: HTTPRequest) throws -> String {
        guard let header = request.headers.first(name: "authorization") else {
            throw unauthorized("This endpoint needs an API key: send Authorization: Bearer <secret>.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw unauthorized("The Authorization header must be: Bearer <secret>.")
        }
        // Only a secret with blanks or non-ASCII goes through Foundation's trimming (CFString, 4% of a registry read).
        let plain = parts[1].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        return plain ? String(parts[1]) : String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    /// `caller`, with its key noted for the request log.
    private static func noted(_ caller: Caller, in request: HTTPRequest) -> Caller {
        request.notes.keyID = caller.key.id
        request.notes.partner = caller.key.partner
        return caller
    }

    /// The live key with this secret, through the cache; `nil` when it is unknown or revoked.
    func caller(secret: String) async throws -> Caller? {
        let pool = self.pool
        let replica = self.replica
        let lookup: @Sendable (Connection) throws -> APIKey? = { try APIKeys.authenticate($0, secret: secret) }
        let key = try await cache.value(
            for: secret,
            load: {
                do {
                    return try await pool.withConnection(lookup)
                } catch let error as PostgresError where error.isConnectionFailure {
                    // Read-only mode: the replica's keys (no key is revoked while the primary is away).
                    guard let replica else { throw error }
                    return try await replica.withConnection(lookup)
                }
            })
        return key.map(Caller.init)
    }

    /// The answer to a key that is not (or no longer) live.
    static var unknownOrRevoked: Problem { unauthorized("The API key is unknown or revoked.") }

    static func unauthorized(_ detail: String) -> Problem {
        Problem(
            status: .unauthorized, code: "unauthorized", title: "Unauthorized", detail: detail,
            headers: ["www-authenticate": "Bearer realm=\"backbone\""])
    }
}
