import Foundation
import JSON
import Postgres

/// The delivery worker's database side: fanning the outbox out into deliveries, claiming due
/// deliveries, recording attempts. Every step is a short transaction that several server
/// processes run side by side (`FOR UPDATE SKIP LOCKED`); none is open during an HTTP call.
public enum WebhookQueue {
    /// A delivery claimed for one attempt: where it goes, with what secret, and the event.
    public struct Claim: Sendable {
        public var delivery: Int
        /// This attempt's number (1 for the first).
        public var attempt: Int
        public var endpoint: Int
        public var url: String
        public var secret: String
        public var event: Int
        public var type: String
        public var createdAt: Date
        /// The event's `data`, as JSON text.
        public var data: String

        /// The `webhook-id` header: the same on every attempt.
        public var messageID: String { WebhookSignature.messageID(event: event) }

        /// The body sent: `{"type", "timestamp", "data"}`, the timestamp being the event's.
        public var body: [UInt8] {
            let type = type.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            let timestamp = Self.iso8601(createdAt)
            return Array("{\"type\":\"\(type)\",\"timestamp\":\"\(timestamp)\",\"data\":\(data)}".utf8)
        }

        static func iso8601(_ date: Date) -> String {
            if case .string(let text) = JSONValue(date) { return text }
            return ""
        }
    }

    /// What one attempt came to.
    public struct Outcome: Sendable {
        public var statusCode: Int?
        public var latencyMilliseconds: Double?
        /// The first KiB of the response body.
        public var responseStart: [UInt8]
        public var error: String?
        /// The answer's `Retry-After`, in seconds from now.
        public var retryAfter: Double?

        public init(
            statusCode: Int? = nil, latencyMilliseconds: Double? = nil, responseStart: [UInt8] = [],
            error: String? = nil, retryAfter: Double? = nil
        ) {
            self.statusCode = statusCode
            self.latencyMilliseconds = latencyMilliseconds
            self.responseStart = responseStart
            self.error = error
            self.retryAfter = retryAfter
        }

        public var succeeded: Bool { error == nil && (200...299).contains(statusCode ?? 0) }
    }

    /// Where a delivery stands after an attempt was recorded.
    public enum Result: String, Sendable, CaseIterable {
        /// 2xx.
        case delivered
        /// Failed; tried again later.
        case failedAttempt = "failed-attempt"
        /// Failed for the last time: the schedule is over.
        case gaveUp = "gave-up"
        /// 410: the endpoint is disabled and its pending deliveries cancelled.
        case disabled
        /// The delivery was no longer pending (cancelled meanwhile); nothing changed.
        case stale
    }

    /// Turns up to `limit` events not yet fanned out into a delivery per active endpoint that
    /// subscribes to the type and may see it, and marks them fanned out, in one transaction.
    /// An event naming an endpoint goes to it alone; a partner's endpoint takes only its
    /// partner's events of `Webhooks.partnerEventTypes`, never one whose data says
    /// `"audience": "coordinator"`; the coordinator's endpoints take any. Returns how many events.
    @discardableResult
    public static func fanOut(_ connection: Connection, limit: Int = 100) throws -> Int {
        let partnerTypes = Webhooks.partnerEventTypes.map(\.rawValue).sorted()
        return try connection.transaction { connection in
            try connection.query(
                """
                WITH batch AS (
                    SELECT id, type, partner_id, endpoint_id, data FROM outbox_events
                    WHERE fanned_out_at IS NULL ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ), fanned AS (
                    INSERT INTO webhook_deliveries (endpoint_id, event_id)
                    SELECT w.id, b.id FROM batch b JOIN webhook_endpoints w ON w.active AND CASE
                        WHEN b.endpoint_id IS NOT NULL THEN w.id = b.endpoint_id
                        ELSE (b.type = ANY(w.events) OR '*' = ANY(w.events)) AND (w.partner_id IS NULL OR (
                            w.partner_id = b.partner_id AND b.type = ANY(\(partnerTypes))
                            AND coalesce(b.data->>'audience', '') <> 'coordinator'))
                    END
                    ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
                    RETURNING 1
                )
                UPDATE outbox_events SET fanned_out_at = now() WHERE id IN (SELECT id FROM batch)
                """
            ).affectedRows
        }
    }

    /// Claims up to `limit` due deliveries of active endpoints for one attempt each: moves
    /// their next attempt `leaseSeconds` on (so a crashed sender's claim comes due again)
    /// and counts the attempt. `inFlight` gives the sends this process has under way per
    /// endpoint; no endpoint is given more than `perEndpoint` at once.
    public static func claim(
        _ connection: Connection, limit: Int, leaseSeconds: Int, perEndpoint: Int = WebhookSettings.sendsPerEndpoint,
        inFlight: [Int: Int] = [:]
    ) throws -> [Claim] {
        let busy = inFlight.filter { $0.value > 0 }
        let full = busy.filter { $0.value >= perEndpoint }.map(\.key)
        return try connection.transaction { connection in
            try connection.query(
                """
                WITH candidates AS (
                    SELECT id, endpoint_id, next_attempt_at FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= now() AND endpoint_id <> ALL(\(full)::bigint[])
                    ORDER BY next_attempt_at LIMIT \(limit * perEndpoint) FOR UPDATE SKIP LOCKED
                ), ranked AS (
                    SELECT c.id, c.next_attempt_at, coalesce(f.sending, 0)
                           + row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) AS slot
                    FROM candidates c
                    LEFT JOIN unnest(\(Array(busy.keys))::bigint[], \(Array(busy.values))::int[]) AS f(endpoint, sending)
                         ON f.endpoint = c.endpoint_id
                ), due AS (
                    SELECT id FROM ranked WHERE slot <= \(perEndpoint) ORDER BY next_attempt_at LIMIT \(limit)
                )
                UPDATE webhook_deliveries d
                SET next_attempt_at = now() + make_interval(secs => \(leaseSeconds)), attempts = d.attempts + 1,
                    updated_at = now()
                FROM due, webhook_endpoints w, outbox_events e
                WHERE d.id = due.id AND w.id = d.endpoint_id AND e.id = d.event_id AND w.active
                RETURNING d.id, d.attempts, w.id, w.url, w.secret, e.id, e.type, e.created_at, e.data::text
                """
            ).map { row in
                let (delivery, attempt, endpoint, url, secret, event, type, created, data) = try row.decode(
                    (Int, Int, Int, String, String, Int, String, Date, String).self)
                return Claim(
                    delivery: delivery, attempt: attempt, endpoint: endpoint, url: url, secret: secret, event: event,
                    type: type, createdAt: created, data: data)
            }
        }
    }

    /// Deletes, `limit` at a time, what is older than `days`: finished deliveries (delivered,
    /// failed or cancelled) with their attempts, then events fanned out that no delivery,
    /// reminder or digest refers to any more (a reminder's event stays: it is the record of
    /// what was sent). Returns how many deliveries and events were deleted.
    @discardableResult
    public static func purge(_ connection: Connection, olderThanDays days: Int, limit: Int = 1000) throws -> (
        deliveries: Int, events: Int
    ) {
        var deliveries = 0
        var events = 0
        while true {
            let deleted = try connection.query(
                """
                WITH old AS (
                    SELECT id FROM webhook_deliveries
                    WHERE status <> 'pending' AND updated_at < now() - make_interval(days => \(days))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ), attempts AS (
                    DELETE FROM webhook_attempts a USING old WHERE a.delivery_id = old.id
                )
                DELETE FROM webhook_deliveries d USING old WHERE d.id = old.id
                """
            ).affectedRows
            deliveries += deleted
            if deleted < limit { break }
        }
        while true {
            let deleted = try connection.query(
                """
                DELETE FROM outbox_events WHERE id IN (
                    SELECT e.id FROM outbox_events e
                    WHERE e.fanned_out_at < now() - make_interval(days => \(days))
                      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
                      AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.event_id = e.id)
                      AND NOT EXISTS (SELECT 1 FROM digests_sent g WHERE g.event_id = e.id)
                    ORDER BY e.id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                """
            ).affectedRows
            events += deleted
            if deleted < limit { break }
        }
        return (deliveries, events)
    }

    /// Records an attempt and moves the delivery on: delivered (2xx), disabled (410: the
    /// endpoint deactivated, its pending deliveries cancelled), retried on the schedule
    /// (`settings.retryScale`, a later `Retry-After` winning) or given up.
    @discardableResult
    public static func record(_ connection: Connection, _ claim: Claim, _ outcome: Outcome, settings: WebhookSettings)
        throws -> Result
    {
        try connection.transaction { connection in
            let start = String(decoding: outcome.responseStart.prefix(1024), as: UTF8.self)
                .replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
            try connection.query(
                """
                INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, response_start, error)
                VALUES (\(claim.delivery), \(claim.attempt), \(outcome.statusCode), \(outcome.latencyMilliseconds),
                        \(outcome.statusCode == nil ? nil : start), \(outcome.error))
                """)
            let pending = try connection.query(
                "SELECT 1 FROM webhook_deliveries WHERE id = \(claim.delivery) AND status = 'pending' FOR UPDATE")
            guard !pending.isEmpty else { return .stale }
            if outcome.succeeded {
                try setStatus(connection, claim.delivery, .delivered)
                return .delivered
            }
            if outcome.error == nil && outcome.statusCode == 410 {
                try setStatus(connection, claim.delivery, .failed)
                try Webhooks.disable(
                    connection, id: claim.endpoint,
                    reason: "the receiver answered 410 Gone at \(Self.now()) (delivery \(claim.delivery))")
                return .disabled
            }
            guard
                let delay = RetrySchedule.delay(
                    afterFailedAttempts: claim.attempt, scale: settings.retryScale, retryAfter: outcome.retryAfter)
            else {
                try setStatus(connection, claim.delivery, .failed)
                return .gaveUp
            }
            try connection.query(
                """
                UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => \(delay)), updated_at = now()
                WHERE id = \(claim.delivery)
                """)
            return .failedAttempt
        }
    }

    /// Events not yet fanned out plus pending deliveries, and the age in seconds of the oldest of them.
    public static func depth(_ connection: Connection) throws -> (count: Int, oldestSeconds: Double) {
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM outbox_events WHERE fanned_out_at IS NULL)
                 + (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),
                   coalesce(extract(epoch FROM now() - least(
                       (SELECT min(created_at) FROM outbox_events WHERE fanned_out_at IS NULL),
                       (SELECT min(created_at) FROM webhook_deliveries WHERE status = 'pending')))::float8, 0)
            """)[0]
        return (try row.decode(Int.self, at: 0), try row.decode(Double.self, at: 1))
    }

    private static func setStatus(_ connection: Connection, _ delivery: Int, _ status: DeliveryStatus) throws {
        try connection.query(
            "UPDATE webhook_deliveries SET status = \(status.rawValue), updated_at = now() WHERE id = \(delivery)")
    }

    private static func now() -> String { Claim.iso8601(Date()) }
}
