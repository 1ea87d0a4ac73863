import Aggregation
import BackboneCore
import Foundation
import HTTPServer
import Logging
import Postgres

/// The Backbone HTTP API: every route, wired to the database pool.
public struct BackboneApp: Sendable {
    public let pool: ConnectionPool
    public let logger: Logger
    /// Small-cell suppression for partner and viewer keys.
    public let suppression: SuppressionPolicy
    /// Dashboard sign-ins (server-side; the browser holds only a session id).
    let dashboardSessions = DashboardSessions()
    /// Where the server's request metrics and the app's own go; `/metrics` shows them.
    public let metrics: ServiceMetrics

    public init(
        pool: ConnectionPool, logger: Logger, suppression: SuppressionPolicy = SuppressionPolicy(),
        metrics: ServiceMetrics = ServiceMetrics()
    ) {
        self.pool = pool
        self.logger = logger
        self.suppression = suppression
        self.metrics = metrics
        let caches = CacheBox()
        changes = ChangeListener(conninfo: pool.conninfo, channels: ["backbone_keys", "backbone_registry"], logger: logger) { channel in
            switch channel {
            case "backbone_keys": caches.keys?.removeAll()
            default: caches.registry?.removeAll()
            }
        }
        keyCache = ChangeAwareCache(listener: changes)
        registryCache = ChangeAwareCache(listener: changes)
        caches.keys = keyCache
        caches.registry = registryCache
    }

    /// The router with every endpoint `openapi.yaml` describes.
    /// Hears key and registry changes from every server process, so caches stay true.
    let changes: ChangeListener
    let keyCache: ChangeAwareCache<String, APIKey>
    let registryCache: ChangeAwareCache<String, Data>

    /// Starts listening for changes; until then (and whenever it is disconnected) nothing is cached.
    public func start() {
        changes.start()
    }

    public func stop() {
        changes.stop()
    }

    /// What the server checks on a request's head before reading its body (the key, and
    /// whether its role may write at all), and how database outages are answered.
    public func policy() -> RequestPolicy {
        let authenticator = Authenticator(pool: pool, cache: keyCache)
        return RequestPolicy(
            admit: { request in
                guard request.path.hasPrefix("/v1/") else { return }
                let caller = try await authenticator.caller(of: request)
                try caller.requireWriteAccess(request.method, path: request.path)
            },
            problem: Problem.translating)
    }

    public func router() throws -> Router {
        var router = Router()
        let authenticator = Authenticator(pool: pool, cache: keyCache)
        let appMetrics = AppMetrics(metrics)
        HealthRoutes(pool: pool, openAPI: Data(EmbeddedFiles.openAPIYAML.utf8), metrics: appMetrics).register(in: &router)
        KeyRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        RegistryRoutes(pool: pool, authenticator: authenticator, cache: registryCache).register(in: &router)
        MeasurementRoutes(pool: pool, authenticator: authenticator, metrics: appMetrics).register(in: &router)
        LockRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        TemplateRoutes(pool: pool, authenticator: authenticator).register(in: &router)
        ReportRoutes(pool: pool, authenticator: authenticator, suppression: suppression, metrics: appMetrics).register(in: &router)
        DashboardRoutes(pool: pool, authenticator: authenticator, suppression: suppression, sessions: dashboardSessions).register(in: &router)
        return router
    }
}

/// Lets the listener's handler reach caches made after it (they need the listener first).
private final class CacheBox: @unchecked Sendable {
    // Written once in BackboneApp.init before the listener starts; read-only afterwards.
    var keys: ChangeAwareCache<String, APIKey>?
    var registry: ChangeAwareCache<String, Data>?
}
