import BackboneCore
import CoreMetrics
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

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
    /// How often what is past `WebhookSettings.retentionDays` is deleted (and soon after start).
    static let purgeInterval: Duration = .seconds(3600)
    /// The wait between rounds that found nothing to do.
    var idle: Duration = .milliseconds(200)

    func run() async throws {
        let sender = WebhookSender(settings: settings)
        let inFlight = SendsInFlight()
        var measured = ContinuousClock.now - .seconds(60)
        var warned = ContinuousClock.now - .seconds(120)
        var purged = ContinuousClock.now - Self.purgeInterval
        // Up to `batch` sends at once, at most `WebhookSettings.sendsPerEndpoint` to one
        // endpoint: a slot freed by one answer is claimed again at once, and a slow receiver
        // holds only its own slots. Leaving waits for the sends in flight.
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let free = Self.batch - inFlight.count
                var busy = false
                do {
                    let fanned = try await fanOut()
                    var claims: [WebhookQueue.Claim] = []
                    if free > 0 {
                        let sending = inFlight.perEndpoint
                        claims = try await pool.withConnection { [settings] in
                            try WebhookQueue.claim(
                                $0, limit: free, leaseSeconds: settings.leaseSeconds, inFlight: sending)
                        }
                    }
                    for claim in claims {
                        inFlight.add(1, to: claim.endpoint)
                        group.addTask {
                            await deliver(claim, sender)
                            inFlight.add(-1, to: claim.endpoint)
                        }
                    }
                    busy = fanned > 0 || !claims.isEmpty
                    if ContinuousClock.now - measured > .seconds(2) {
                        try await metrics.measureDepth(pool)
                        measured = ContinuousClock.now
                    }
                    if ContinuousClock.now - purged > Self.purgeInterval {
                        purged = ContinuousClock.now
                        try await pool.withConnection { [settings] in
                            _ = try WebhookQueue.purge($0, olderThanDays: settings.retentionDays)
                        }
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
                if !busy {
                    // With sends in flight, look again soon: a slot may free up.
                    let wait = inFlight.count > 0 ? min(idle, .milliseconds(20)) : idle
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                }
            }
        }
        await sender.shutdown()
    }

    /// Fans out everything waiting, 100 events a transaction; how many events.
    private func fanOut() async throws -> Int {
        var fanned = 0
        while true {
            let count = try await pool.withConnection { try WebhookQueue.fanOut($0, limit: 100) }
            fanned += count
            if count < 100 { return fanned }
        }
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

/// How many sends a worker has in flight, per endpoint, shared with the tasks that make them.
private final class SendsInFlight: Sendable {
    private let value = Mutex([Int: Int]())

    var count: Int { value.withLock { $0.values.reduce(0, +) } }

    var perEndpoint: [Int: Int] { value.withLock { $0 } }

    func add(_ change: Int, to endpoint: Int) {
        value.withLock { sends in
            let now = sends[endpoint, default: 0] + change
            sends[endpoint] = now == 0 ? nil : now
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
