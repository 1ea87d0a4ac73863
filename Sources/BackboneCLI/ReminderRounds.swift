import Aggregation
import BackboneCore
import Logging
import Postgres
import ServiceLifecycle

/// Sends reminders and overdue digests every `REMINDER_INTERVAL_SECONDS` (and soon after
/// start): each round considers every period still in the window, so a server that was
/// down catches up, and the database records each reminder once however many servers run
/// rounds (docs/events.md#reminders).
struct ReminderRounds: Service {
    let pool: ConnectionPool
    let daysBefore: Int
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // The first round waits a moment for the database the server waits for too.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(interval, .seconds(5))) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let sent = try await pool.withConnection { [daysBefore] connection in
                    try Reminders.run(connection, today: Period.today(), dueSoonDays: daysBefore)
                }
                if sent != Reminders.Outcome() {
                    logger.notice(
                        "reminders sent",
                        metadata: ["due": "\(sent.due)", "overdue": "\(sent.overdue)", "digests": "\(sent.digests)"])
                }
            } catch {
                logger.warning("reminder round failed; tried again next round", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
