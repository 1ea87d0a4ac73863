import Aggregation
import NIOHTTP1
import BackboneCore
import HTTPServer
import Postgres

/// Who is calling: the API key behind the request's bearer token.
struct Caller: Sendable {
    let key: APIKey

    var role: Role { key.role }
    var isCoordinator: Bool { key.role == .coordinator }

    /// How reports treat this caller: the coordinator sees every cell, partner and viewer
    /// keys see the cells `policy` protects (a partner its own rows of a `by=partner` report too).
    func audience(_ policy: SuppressionPolicy) -> Reports.Audience {
        isCoordinator ? Reports.Audience(policy: nil) : Reports.Audience(policy: policy, partner: key.partner)
    }

    /// Refuses unless the caller is the coordinator.
    func requireCoordinator(_ action: String) throws {
        guard isCoordinator else {
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A \(role.rawValue) key may not \(action); it needs a coordinator key.")
        }
    }

    /// Refuses, on the head of a request with a body, a role that may write nothing there:
    /// viewers write nothing; partners only submit measurements. (Handlers check the rest.)
    func requireWriteAccess(_ method: HTTPMethod, path: String) throws {
        switch role {
        case .coordinator:
            return
        case .partner where method == .POST && path == "/v1/measurements":
            return
        case .partner, .viewer:
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A \(role.rawValue) key may not \(method.rawValue) \(path).")
        }
    }

    /// Refuses viewers, which read aggregates and the registry only.
    func requireRawDataAccess() throws {
        guard role != .viewer else {
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A viewer key reads the registry and aggregates only, not raw measurements.")
        }
    }
}

/// Resolves `Authorization: Bearer <secret>` to a live key, on every request, so a
/// revoked key stops working at once.
struct Authenticator: Sendable {
    let pool: ConnectionPool
    /// Live keys by secret; emptied whenever any key changes, in any server process.
    let cache: ChangeAwareCache<String, APIKey>

    func caller(of request: HTTPRequest) async throws -> Caller {
        guard let header = request.headers.first(name: "authorization") else {
            throw Self.unauthorized("This endpoint needs an API key: send Authorization: Bearer <secret>.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw Self.unauthorized("The Authorization header must be: Bearer <secret>.")
        }
        // Only a secret with blanks or non-ASCII goes through Foundation's trimming (CFString, 4% of a registry read).
        let plain = parts[1].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        let secret = plain ? String(parts[1]) : String(parts[1]).trimmingCharacters(in: .whitespaces)
        guard let caller = try await caller(secret: secret) else {
            throw Self.unauthorized("The API key is unknown or revoked.")
        }
        request.notes.keyID = caller.key.id
        request.notes.partner = caller.key.partner
        return caller
    }

    /// The live key with this secret, through the cache; `nil` when it is unknown or revoked.
    func caller(secret: String) async throws -> Caller? {
        let pool = self.pool
        let key = try await cache.value(for: secret, load: { try await pool.withConnection { try APIKeys.authenticate($0, secret: secret) } })
        return key.map(Caller.init)
    }

    static func unauthorized(_ detail: String) -> Problem {
        Problem(
            status: .unauthorized, code: "unauthorized", title: "Unauthorized", detail: detail,
            headers: ["www-authenticate": "Bearer realm=\"backbone\""])
    }
}

import Foundation
