import BackboneCore
import Foundation
import HTTPServer
import Logging
import Postgres

/// The Backbone HTTP API: every route, wired to the database pool.
public struct BackboneApp: Sendable {
    public let pool: ConnectionPool
    public let files: ProjectFiles
    public let logger: Logger

    public init(pool: ConnectionPool, files: ProjectFiles, logger: Logger) {
        self.pool = pool
        self.files = files
        self.logger = logger
    }

    /// The router with every endpoint `openapi.yaml` describes.
    public func router() throws -> Router {
        var router = Router()
        let authenticator = Authenticator(pool: pool)
        try HealthRoutes(pool: pool, openAPI: files.openAPIYAML()).register(in: &router)
        KeyRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        RegistryRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        MeasurementRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        LockRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        return router
    }
}
