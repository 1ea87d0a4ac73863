import BackboneCore
import Foundation
import HTTPServer
import JSON
import Postgres

/// `/healthz`, `/readyz`, `/metrics` and the contract itself.
struct HealthRoutes {
    let pool: ConnectionPool
    let openAPI: Data
    let metrics: AppMetrics

    struct Readiness: JSONRepresentable {
        var status: String
        var schemaVersion: Int

        var json: JSONValue { .object(["status": .string(status), "schema_version": JSONValue(schemaVersion)]) }
    }

    func register(in routes: inout RouteTable) {
        // One response for every call: its body and headers are shared, not built per request.
        let healthy = HTTPResponse(contentType: "application/json", body: #"{"status":"ok"}"#.utf8)
        routes.getImmediately("/healthz", .public) { _, _ in healthy }
        let pool = self.pool
        routes.get("/readyz", .public) { _, _ in
            do {
                let version = try await pool.withConnection { connection in
                    try Schema.verify(connection)
                    return try Schema.currentVersion(connection)
                }
                return .json(Readiness(status: "ready", schemaVersion: version))
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
            offers: [Representation(mediaType: "text/plain", format: "text")]
        ) { _, _ in
            HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition(pool: pool))
        }
        let contract = openAPI
        routes.get("/openapi.yaml", .public, offers: [.yaml]) { _, _ in
            HTTPResponse(contentType: "application/yaml", body: contract)
        }
    }
}
