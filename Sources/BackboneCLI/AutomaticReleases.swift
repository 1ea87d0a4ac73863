import Aggregation
import BackboneCore
import Logging
import Postgres
import ServiceLifecycle

/// Releases, once an hour (and at start), every period that ended its agenda's
/// `release_after_days` (else `RELEASE_AFTER_DAYS`) ago and holds data no release covers,
/// so a deployment whose coordinator does nothing still publishes (docs/privacy.md).
struct AutomaticReleases: Service {
    let pool: ConnectionPool
    let afterDays: Int
    let policy: SuppressionPolicy
    let logger: Logger
    var interval: Duration = .seconds(3600)

    func run() async throws {
        // The first round waits a moment for the database the server waits for too.
        try? await Task.sleep(for: .seconds(5))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let released = try await pool.withConnection { [afterDays, policy] connection in
                    try Releases.releaseDue(
                        connection, defaultAfterDays: afterDays, policy: policy, today: Period.today())
                }
                for release in released {
                    logger.notice(
                        "released",
                        metadata: [
                            "agenda": "\(release.agenda)", "period": "\(release.period)", "release": "\(release.id)",
                        ])
                }
            } catch {
                logger.warning("automatic release failed; tried again in an hour", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
