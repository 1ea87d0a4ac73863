import BackboneCore
import CoreMetrics
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// The webhook delivery worker of `backbone serve` (docs/events.md, "Webhooks"): fans the
/// outbox out into deliveries, claims due ones, sends them, records each attempt. Every server
/// process runs one; they share the work through `FOR UPDATE SKIP LOCKED`, and a claim is a
/// lease, so a process killed mid-send leaves its deliveries to be sent again (at least once;
/// `webhook-id` lets receivers drop repeats).
struct WebhookDeliveries: Service {
    let pool: ConnectionPool
    let settings: WebhookSettings
    let metrics: WebhookMetrics
    let logger: Logger
    /// Deliveries sent at once by one process.
    static let batch = 16
    /// The wait between rounds that found nothing to do.
    var idle: Duration = .milliseconds(200)

    func run() async throws {
        let sender = WebhookSender(settings: settings)
        var measured = ContinuousClock.now - .seconds(60)
        var warned = ContinuousClock.now - .seconds(120)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var busy = false
            do {
                busy = try await round(sender)
                if ContinuousClock.now - measured > .seconds(2) {
                    try await metrics.measureDepth(pool)
                    measured = ContinuousClock.now
                }
            } catch {
                // Once a minute at most: a database that is down (or not migrated yet) fails every round.
                if ContinuousClock.now - warned > .seconds(60) {
                    logger.warning(
                        "webhook delivery round failed; tried again every second", metadata: ["error": "\(error)"])
                    warned = ContinuousClock.now
                }
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
            if !busy { try? await cancelWhenGracefulShutdown { [idle] in try await Task.sleep(for: idle) } }
        }
        await sender.shutdown()
    }

    /// Fans out what is waiting, sends one batch of due deliveries; whether there was anything to do.
    func round(_ sender: WebhookSender) async throws -> Bool {
        var fanned = 0
        while true {
            let count = try await pool.withConnection { try WebhookQueue.fanOut($0, limit: 100) }
            fanned += count
            if count < 100 { break }
        }
        let claims = try await pool.withConnection { [settings] in
            try WebhookQueue.claim($0, limit: Self.batch, leaseSeconds: settings.leaseSeconds)
        }
        await withTaskGroup(of: Void.self) { group in
            for claim in claims {
                group.addTask { await deliver(claim, sender) }
            }
        }
        return fanned > 0 || !claims.isEmpty
    }

    private func deliver(_ claim: WebhookQueue.Claim, _ sender: WebhookSender) async {
        let outcome = await sender.send(claim)
        do {
            let result = try await pool.withConnection { [settings] in
                try WebhookQueue.record($0, claim, outcome, settings: settings)
            }
            metrics.count(result)
            if result == .disabled {
                logger.notice(
                    "webhook endpoint disabled: the receiver answered 410",
                    metadata: ["endpoint": "\(claim.endpoint)", "url": "\(claim.url)"])
            }
        } catch {
            // Not recorded: the lease runs out and the delivery is sent again.
            logger.warning(
                "webhook attempt not recorded; sent again when its lease ends",
                metadata: ["delivery": "\(claim.delivery)", "error": "\(error)"])
        }
    }
}

/// Webhook metrics on `/metrics`: `backbone_webhook_deliveries_total{outcome}` (delivered,
/// failed-attempt, gave-up, disabled), `backbone_outbox_depth` (events not fanned out plus
/// pending deliveries) and `backbone_outbox_oldest_pending_seconds`.
struct WebhookMetrics: Sendable {
    private let outcomes: [WebhookQueue.Result: CoreMetrics.Counter]
    private let depth: CoreMetrics.Gauge
    private let oldest: CoreMetrics.Gauge

    static let counted: [WebhookQueue.Result] = [.delivered, .failedAttempt, .gaveUp, .disabled]

    init(factory: any MetricsFactory) {
        outcomes = Dictionary(
            uniqueKeysWithValues: Self.counted.map {
                (
                    $0,
                    CoreMetrics.Counter(
                        label: "backbone_webhook_deliveries_total", dimensions: [("outcome", $0.rawValue)],
                        factory: factory)
                )
            })
        depth = CoreMetrics.Gauge(label: "backbone_outbox_depth", dimensions: [], factory: factory)
        oldest = CoreMetrics.Gauge(label: "backbone_outbox_oldest_pending_seconds", dimensions: [], factory: factory)
        depth.record(0)
        oldest.record(0)
    }

    func count(_ result: WebhookQueue.Result) {
        outcomes[result]?.increment()
    }

    /// Reads the outbox's depth and oldest age into the gauges.
    func measureDepth(_ pool: ConnectionPool) async throws {
        let (count, oldestSeconds) = try await pool.withConnection { try WebhookQueue.depth($0) }
        depth.record(count)
        oldest.record(oldestSeconds)
    }
}
