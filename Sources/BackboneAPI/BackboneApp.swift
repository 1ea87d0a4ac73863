import Aggregation
import BackboneCore
import Foundation
import HTTPServer
import Logging
import Postgres

/// The Backbone HTTP API: every route, wired to the database pool.
public struct BackboneApp: Sendable {
    public let pool: ConnectionPool
    /// A streaming replica read-only requests read from when it has their caller's writes
    /// (`DATABASE_REPLICA_URL`; docs/SCALING.md); nil: every read is on `pool`.
    public let replica: ConnectionPool?
    public let logger: Logger
    /// Small-cell protection, computed by each release for partner and viewer keys.
    public let suppression: SuppressionPolicy
    /// The plausibility checks submissions go through.
    public let quality: QualitySettings
    /// Whether stored batches write `measurements.submitted` and `.corrected` events
    /// (`SUBMISSION_EVENTS`; off only where nothing subscribes to them, or to measure their cost).
    public let submissionEvents: Bool
    /// Dashboard sign-ins (server-side; the browser holds only a session id).
    let dashboardSessions = DashboardSessions()
    /// Where the server's request metrics and the app's own go; `/metrics` shows them.
    public let metrics: ServiceMetrics
    /// How webhook endpoints are checked (whether private networks are allowed).
    public let webhooks: WebhookSettings

    public init(
        pool: ConnectionPool, logger: Logger, suppression: SuppressionPolicy = SuppressionPolicy(),
        metrics: ServiceMetrics = ServiceMetrics(), quality: QualitySettings = .standard,
        webhooks: WebhookSettings = WebhookSettings(), submissionEvents: Bool = true, replica: ConnectionPool? = nil
    ) {
        self.pool = pool
        self.replica = replica
        self.submissionEvents = submissionEvents
        self.webhooks = webhooks
        self.quality = quality
        self.logger = logger
        self.suppression = suppression
        self.metrics = metrics
        let caches = CacheBox()
        changes = ChangeListener(
            conninfo: pool.conninfo, channels: ["backbone_keys", "backbone_registry"], logger: logger
        ) { channel in
            switch channel {
            case "backbone_keys": caches.keys?.removeAll()
            default:
                caches.registry?.removeAll()
                caches.reports?.removeAll()
            }
        }
        keyCache = ChangeAwareCache(listener: changes)
        registryCache = ChangeAwareCache(listener: changes)
        reportCache = ChangeAwareCache(listener: changes)
        caches.keys = keyCache
        caches.registry = registryCache
        caches.reports = reportCache
        renderedReports = RenderedReports(registry: reportCache)
    }

    /// Hears key and registry changes from every server process, so caches stay true.
    let changes: ChangeListener
    let keyCache: ChangeAwareCache<String, APIKey>
    let registryCache: ChangeAwareCache<String, Data>
    /// What reports read of the registry (see `RegistryMemo`).
    let reportCache: ChangeAwareCache<String, any Sendable>
    /// Reports as rendered, given again while nothing has changed (see `RenderedReports`).
    let renderedReports: RenderedReports

    /// Starts listening for changes; until then (and whenever it is disconnected) nothing is cached.
    public func start() {
        changes.start()
    }

    public func stop() {
        changes.stop()
    }

    /// The router with every endpoint `openapi.yaml` describes.
    public func router() -> Router<RequestContext> {
        routes().router
    }

    /// How errors escaping handlers become problems (the domain's refusals, the database's failures).
    public var problems: @Sendable (any Error) -> Problem? { Problem.translating }

    /// Every route with who may call it.
    func routes() -> RouteTable {
        var table = RouteTable(
            authenticator: Authenticator(pool: pool, replica: replica, cache: keyCache),
            reads: ReplicaReads(primary: pool, replica: replica, metrics: metrics, logger: logger), logger: logger)
        let appMetrics = AppMetrics(metrics)
        HealthRoutes(
            pool: pool, replica: replica, openAPI: Data(EmbeddedFiles.openAPIYAML.utf8), metrics: appMetrics
        ).register(in: &table)
        KeyRoutes(pool: pool).register(in: &table)
        RegistryRoutes(pool: pool, cache: registryCache, reportCache: reportCache).register(in: &table)
        MeasurementRoutes(pool: pool, metrics: appMetrics, quality: quality, submissionEvents: submissionEvents)
            .register(in: &table)
        FlagRoutes(pool: pool).register(in: &table)
        LockRoutes(pool: pool).register(in: &table)
        RuleRoutes(pool: pool).register(in: &table)
        StoryRoutes(pool: pool).register(in: &table)
        ContributionRoutes(pool: pool).register(in: &table)
        ActionRoutes(pool: pool).register(in: &table)
        WebhookRoutes(pool: pool, settings: webhooks).register(in: &table)
        ReleaseRoutes(pool: pool, suppression: suppression).register(in: &table)
        TemplateRoutes(pool: pool).register(in: &table)
        ReportRoutes(pool: pool, metrics: appMetrics, memo: reportCache, rendered: renderedReports).register(in: &table)
        let dashboard = DashboardRoutes(pool: pool, authenticator: table.authenticator, sessions: dashboardSessions)
        dashboard.register(in: &table)
        DashboardUploadRoutes(
            dashboard: dashboard, metrics: appMetrics, quality: quality, submissionEvents: submissionEvents
        ).register(in: &table)
        PacketRoutes(pool: pool, dashboard: dashboard).register(in: &table)
        return table
    }
}

/// Lets the listener's handler reach caches made after it (they need the listener first).
private final class CacheBox: @unchecked Sendable {
    // Written once in BackboneApp.init before the listener starts; read-only afterwards.
    var keys: ChangeAwareCache<String, APIKey>?
    var registry: ChangeAwareCache<String, Data>?
    var reports: ChangeAwareCache<String, any Sendable>?
}
