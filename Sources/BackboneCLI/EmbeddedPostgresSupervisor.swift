import Foundation
import Logging
import ServiceLifecycle

/// Keeps `serve`'s embedded PostgreSQL running: a postmaster that crashed or was killed
/// is started again within a second or two, and the connection pool reconnects by itself
/// (requests meanwhile get 503 `database-unavailable`). Stops watching on shutdown, before
/// the server drains and the cluster is stopped.
struct EmbeddedPostgresSupervisor: Service {
    let cluster: EmbeddedPostgres
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            guard !Task.isCancelled, !Task.isShuttingDownGracefully, !cluster.postmasterIsAlive() else { continue }
            // A shutdown meanwhile makes the recovery give up at its next retry.
            let cluster = self.cluster
            await withGracefulShutdownHandler {
                await recover()
            } onGracefulShutdown: {
                cluster.abandonRecovery()
            }
        }
    }

    /// `pg_ctl` blocks: it runs on a thread of its own, not on the cooperative pool.
    private func recover() async {
        let cluster = self.cluster
        let logger = self.logger
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                do {
                    if try cluster.recoverIfDown(log: { logger.warning("\($0)") }) {
                        logger.notice("the embedded PostgreSQL runs again")
                    }
                } catch {
                    logger.error(
                        "the embedded PostgreSQL could not be started again; retrying", metadata: ["error": "\(error)"])
                }
                done.resume()
            }
        }
    }
}
