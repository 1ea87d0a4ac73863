import Foundation
import Postgres

/// Webhook endpoints and their delivery logs, as their owners manage them (docs/events.md).
///
/// The caller is a `KeyHolder`: the coordinator (no partner) manages its own endpoints and
/// subscribes to any event type; a partner key manages only its partner's endpoints (another
/// partner's are "not found") and subscribes only to `partnerEventTypes`.
public enum Webhooks {
    /// The event types a partner's endpoint may take: its submissions and corrections, its
    /// flags, its reminders and pings.
    public static let partnerEventTypes: Set<EventType> = [
        .measurementsSubmitted, .measurementsCorrected, .flagOpened, .flagClosed, .reminderDue, .reminderOverdue,
        .ping,
    ]

    /// Subscribes to every type the endpoint may see.
    public static let everyType = "*"

    /// One page of endpoints or deliveries and the cursor of the next, if any.
    public struct Page<Item: Sendable>: Sendable {
        public var items: [Item]
        public var nextCursor: Int?
    }

    private static let columns = Query(
        unsafeSQL: "id, url, events, description, partner_id, active, disabled_reason, created_at, updated_at")

    /// A subscription checked by `check`, ready to be stored by `create`.
    public struct Subscription: Sendable {
        public let url: String
        public let events: [String]
        public let description: String
        public let owner: KeyHolder

        fileprivate init(url: String, events: [String], description: String, owner: KeyHolder) {
            self.url = url
            self.events = events
            self.description = description
            self.owner = owner
        }
    }

    /// Checks a subscription before any database work (its host is resolved, which may take a
    /// moment, so on a thread of its own): refuses (422) a URL that is not http(s) with a
    /// public host (unless `settings` allow private networks) and event types that do not
    /// exist or that a partner may not take, naming `url` and `events`.
    public static func check(
        url: String, events: [String], description: String, by owner: KeyHolder, settings: WebhookSettings
    ) async throws -> Subscription {
        var issues: [DomainError.Issue] = []
        if let refusal = await WebhookAddress.refusalResolvingAside(
            url, allowPrivateNetworks: settings.allowPrivateNetworks)
        {
            issues.append(.init(field: "url", code: "refused-url", message: refusal))
        }
        issues += eventIssues(events, partner: owner.partner)
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        var unique: [String] = []
        for event in events where !unique.contains(event) { unique.append(event) }
        return Subscription(url: url, events: unique, description: description, owner: owner)
    }

    /// Stores a checked subscription and returns the endpoint with its secret, which is never shown again.
    public static func create(_ connection: Connection, _ subscription: Subscription) throws -> (
        endpoint: WebhookEndpoint, secret: String
    ) {
        let secret = WebhookSignature.newSecret()
        let owner = subscription.owner
        let id = try connection.query(
            """
            INSERT INTO webhook_endpoints (url, events, description, secret, partner_id, key_id)
            VALUES (\(subscription.url), \(subscription.events), \(subscription.description), \(secret),
                    \(owner.partner), \(owner.keyID))
            RETURNING id
            """)[0].decode(Int.self, at: 0)
        return (try endpoint(connection, id: id, by: owner), secret)
    }

    /// Problems with a subscription's event types, each naming `events`.
    static func eventIssues(_ events: [String], partner: String?) -> [DomainError.Issue] {
        guard !events.isEmpty else {
            return [.init(field: "events", code: "required", message: "must name at least one event type or \"*\"")]
        }
        var issues: [DomainError.Issue] = []
        for event in events where event != everyType {
            guard let type = EventType(rawValue: event) else {
                let known = EventType.allCases.map(\.rawValue).joined(separator: ", ")
                issues.append(
                    .init(
                        field: "events", code: "unknown-event-type",
                        message: "\(event) is not an event type; use \"*\" or one of \(known)"))
                continue
            }
            if partner != nil && !partnerEventTypes.contains(type) {
                issues.append(
                    .init(
                        field: "events", code: "coordinator-only-event",
                        message: "a partner key may not subscribe to \(event); only the coordinator's endpoints take it"
                    ))
            }
        }
        return issues
    }

    /// The endpoints `owner` manages (active or not), in id order after `cursor`.
    public static func list(_ connection: Connection, by owner: KeyHolder, after cursor: Int?, limit: Int) throws
        -> Page<WebhookEndpoint>
    {
        let rows = try connection.query(
            """
            SELECT \(columns) FROM webhook_endpoints
            WHERE partner_id IS NOT DISTINCT FROM \(owner.partner) AND id > \(cursor ?? 0) ORDER BY id LIMIT \(limit + 1)
            """)
        let items = try rows.prefix(limit).map(decode)
        return Page(items: items, nextCursor: rows.count > limit ? items.last?.id : nil)
    }

    /// The endpoint `id` if `owner` manages it (404 otherwise: a partner does not learn of another's).
    public static func endpoint(_ connection: Connection, id: Int, by owner: KeyHolder, locking: Bool = false) throws
        -> WebhookEndpoint
    {
        let lock: Query = locking ? " FOR UPDATE" : ""
        guard
            let found = try connection.query(
                """
                SELECT \(columns) FROM webhook_endpoints
                WHERE id = \(id) AND partner_id IS NOT DISTINCT FROM \(owner.partner)\(lock)
                """
            ).first.map(decode)
        else { throw DomainError.notFound("No webhook endpoint \(id).") }
        return found
    }

    /// Deactivates the endpoint and cancels its pending deliveries; deactivating it again changes nothing.
    public static func deactivate(_ connection: Connection, id: Int, by owner: KeyHolder) throws -> WebhookEndpoint {
        let found = try endpoint(connection, id: id, by: owner, locking: true)
        guard found.active else { return found }
        try disable(connection, id: id, reason: "deleted by key \(owner.keyID)")
        return try endpoint(connection, id: id, by: owner)
    }

    /// Sets the endpoint inactive for `reason` and cancels its pending deliveries (in the caller's transaction).
    static func disable(_ connection: Connection, id: Int, reason: String) throws {
        try connection.query(
            """
            UPDATE webhook_endpoints SET active = false, disabled_reason = \(reason), updated_at = now()
            WHERE id = \(id) AND active
            """)
        try connection.query(
            """
            UPDATE webhook_deliveries SET status = 'cancelled', updated_at = now()
            WHERE endpoint_id = \(id) AND status = 'pending'
            """)
    }

    /// Writes a `ping` event for this endpoint alone and returns the event's id (409 for an inactive endpoint).
    public static func ping(_ connection: Connection, id: Int, by owner: KeyHolder) throws -> Int {
        let found = try endpoint(connection, id: id, by: owner)
        guard found.active else { throw inactive(id) }
        return try Outbox.append(
            connection, .ping, agenda: nil, partner: found.partner, endpoint: id,
            data: .object(["endpoint": .number(Double(id)), "message": .string("ping from Backbone")]))
    }

    /// The endpoint's deliveries, newest first (before `cursor`), each with its attempts.
    public static func deliveries(
        _ connection: Connection, endpoint id: Int, by owner: KeyHolder, before cursor: Int?, limit: Int
    ) throws -> Page<WebhookDelivery> {
        _ = try endpoint(connection, id: id, by: owner)
        let rows = try connection.query(
            """
            SELECT d.id FROM webhook_deliveries d
            WHERE d.endpoint_id = \(id) AND d.id < \(cursor ?? Int.max) ORDER BY d.id DESC LIMIT \(limit + 1)
            """)
        let ids = try rows.prefix(limit).map { try $0.decode(Int.self, at: 0) }
        let items = try self.deliveries(connection, ids: ids)
        return Page(items: items, nextCursor: rows.count > limit ? ids.last : nil)
    }

    /// Makes the delivery pending now (one more attempt; the schedule continues from its
    /// count of attempts). 404 when it is not this endpoint's, 409 when the endpoint is inactive.
    public static func redeliver(_ connection: Connection, endpoint id: Int, delivery: Int, by owner: KeyHolder) throws
        -> WebhookDelivery
    {
        let found = try endpoint(connection, id: id, by: owner, locking: true)
        let updated = try connection.query(
            """
            UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
            WHERE id = \(delivery) AND endpoint_id = \(id) AND \(found.active)
            RETURNING id
            """)
        if updated.isEmpty {
            let exists = try connection.query(
                "SELECT 1 FROM webhook_deliveries WHERE id = \(delivery) AND endpoint_id = \(id)")
            guard !exists.isEmpty else {
                throw DomainError.notFound("No delivery \(delivery) of webhook endpoint \(id).")
            }
            throw inactive(id)
        }
        return try deliveries(connection, ids: [delivery])[0]
    }

    /// The deliveries `ids` (in that order) with their attempts.
    static func deliveries(_ connection: Connection, ids: [Int]) throws -> [WebhookDelivery] {
        guard !ids.isEmpty else { return [] }
        var attempts: [Int: [WebhookAttempt]] = [:]
        for row in try connection.query(
            """
            SELECT delivery_id, attempt, at, status_code, latency_ms, response_start, error
            FROM webhook_attempts WHERE delivery_id = ANY(\(ids)) ORDER BY delivery_id, id
            """)
        {
            let (delivery, attempt, at, code, latency, start, error) = try row.decode(
                (Int, Int, Date, Int?, Double?, String?, String?).self)
            attempts[delivery, default: []].append(
                WebhookAttempt(
                    attempt: attempt, at: at, statusCode: code, latencyMilliseconds: latency, responseStart: start,
                    error: error))
        }
        var found: [Int: WebhookDelivery] = [:]
        for row in try connection.query(
            """
            SELECT d.id, d.endpoint_id, d.event_id, e.type, d.status, d.next_attempt_at, d.created_at
            FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.id = ANY(\(ids))
            """)
        {
            let (id, endpoint, event, type, statusText, next, created) = try row.decode(
                (Int, Int, Int, String, String, Date, Date).self)
            let status = try DeliveryStatus.stored(statusText, column: "webhook_deliveries.status")
            found[id] = WebhookDelivery(
                id: id, endpointID: endpoint, eventID: event, eventType: type,
                messageID: WebhookSignature.messageID(event: event), status: status,
                nextAttemptAt: status == .pending ? next : nil, createdAt: created, attempts: attempts[id] ?? [])
        }
        return ids.compactMap { found[$0] }
    }

    private static func inactive(_ id: Int) -> DomainError {
        .conflict(code: "endpoint-inactive", "Webhook endpoint \(id) is inactive; create a new one.")
    }

    private static func decode(_ row: Row) throws -> WebhookEndpoint {
        let (id, url, events, description, partner, active, reason, created, updated) = try row.decode(
            (Int, String, [String], String, String?, Bool, String?, Date, Date).self)
        return WebhookEndpoint(
            id: id, url: url, events: events, description: description, partner: partner, active: active,
            disabledReason: reason, createdAt: created, updatedAt: updated)
    }
}
