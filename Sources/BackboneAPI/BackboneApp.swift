import Aggregation
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
    /// Small-cell suppression for partner and viewer keys.
    public let suppression: SuppressionPolicy

    public init(pool: ConnectionPool, files: ProjectFiles, logger: Logger, suppression: SuppressionPolicy = SuppressionPolicy()) {
        self.pool = pool
        self.files = files
        self.logger = logger
        self.suppression = suppression
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
        ReportRoutes(pool: pool, authenticator: authenticator, suppression: suppression).register(in: &router)
        return router
    }
}
