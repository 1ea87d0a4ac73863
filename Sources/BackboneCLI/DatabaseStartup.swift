import BackboneCore
import Logging
import Postgres
import ServiceLifecycle

/// Waits for the database when `serve` starts, instead of exiting when it is not up yet.
///
/// The HTTP server listens meanwhile: `/healthz` answers 200, `/readyz` and every route
/// that needs the database answer 503 with `Retry-After`. Once the database answers, the
/// schema is migrated (embedded database) or verified (an external one, whose schema
/// must be migrated by `backbone migrate`); a schema that is not current stops the service.
struct DatabaseStartup: Service {
    let pool: ConnectionPool
    let migrate: Bool
    let logger: Logger
    /// Runs once the schema is current (the embedded database's first key).
    var onReady: (@Sendable (Connection) throws -> Void)? = nil

    func run() async throws {
        var delay = Duration.milliseconds(200)
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let migrate = self.migrate
                let onReady = self.onReady
                try await pool.withConnection { connection in
                    if migrate {
                        _ = try Schema.migrate(connection)
                    } else {
                        try Schema.verify(connection)
                    }
                    try onReady?(connection)
                }
                if warned { logger.info("the database is reachable; ready") }
                break
            } catch let error as PostgresError where error.isConnectionFailure {
                if !warned {
                    logger.warning("waiting for the database", metadata: ["error": "\(error)"])
                    warned = true
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        try? await gracefulShutdown()
    }
}
