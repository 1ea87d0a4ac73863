import BackboneCore
import Foundation
import HTTPServer
import JSON
import Postgres

/// `/healthz`, `/readyz`, `/metrics` and the contract itself.
struct HealthRoutes {
    let pool: ConnectionPool
    /// The replica reads go to, if any: with the primary away and it there, the service is
    /// degraded to read-only, not down.
    let replica: ConnectionPool?
    let openAPI: Data
    let metrics: AppMetrics

    struct Readiness: JSONRepresentable {
        var status: String
        var schemaVersion: Int
        /// `read-only` while degraded.
        var mode: String?

        var json: JSONValue {
            var object: [String: JSONValue] = ["status": .string(status), "schema_version": JSONValue(schemaVersion)]
            if let mode { object["mode"] = .string(mode) }
            return .object(object)
        }
    }

    /// The schema version of the database behind `pool`, checked to be the one this build needs.
    static func schemaVersion(_ pool: ConnectionPool) async throws -> Int {
        try await pool.withConnection { connection in
            try Schema.verify(connection)
            return try Schema.currentVersion(connection)
        }
    }

    func register(in routes: inout RouteTable) {
        // One response for every call: its body and headers are shared, not built per request.
        let healthy = HTTPResponse(contentType: "application/json", body: #"{"status":"ok"}"#.utf8)
        routes.getImmediately("/healthz", .public) { _, _ in healthy }
        let pool = self.pool
        let replica = self.replica
        routes.get("/readyz", .public, onPrimary: true) { _, _ in
            do {
                let version = try await Self.schemaVersion(pool)
                return .json(Readiness(status: "ready", schemaVersion: version))
            } catch let error as PostgresError where error.isConnectionFailure && replica != nil {
                // The primary is away; reads are still served if the replica is there.
                guard let replica, let version = try? await Self.schemaVersion(replica) else {
                    throw Problem(
                        status: .serviceUnavailable, code: "database-unavailable", title: "Not ready",
                        detail: "Neither the primary nor the replica is reachable: \(error)",
                        headers: ["retry-after": String(Problem.databaseRetryAfter)])
                }
                return .json(Readiness(status: "degraded", schemaVersion: version, mode: "read-only"))
            } catch let error as Schema.SchemaError {
                throw Problem(
                    status: .serviceUnavailable, code: "schema-not-current", title: "Not ready",
                    detail: error.description,
                    headers: ["retry-after": String(Problem.databaseRetryAfter)])
            } catch {
                throw Problem(
                    status: .serviceUnavailable, code: "database-unavailable", title: "Not ready",
                    detail: "The database is not reachable: \(error)",
                    headers: ["retry-after": String(Problem.databaseRetryAfter)])
            }
        }
        let metrics = self.metrics
        // Counts that tick with each submission tell a watcher who submitted when: the
        // coordinator's key only (Prometheus sends it as a bearer token).
        routes.get(
            "/metrics", .coordinator("read the service's metrics"),
            offers: [Representation(mediaType: "text/plain", format: "text")], onPrimary: true
        ) { _, _ in
            HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition(pool: pool))
        }
        let contract = openAPI
        routes.get("/openapi.yaml", .public, offers: [.yaml]) { _, _ in
            HTTPResponse(contentType: "application/yaml", body: contract)
        }
    }
}
