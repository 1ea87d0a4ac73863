import Foundation

/// Where events are sent: a URL, the event types it takes and whose key made it. A partner
/// key's endpoint (`partner` set) receives only that partner's events.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: Int
    public var url: String
    /// Event types (`EventType` raw values) or `*` for every type the endpoint may see.
    public var events: [String]
    public var description: String
    /// The partner whose key made it; `nil` for the coordinator's.
    public var partner: String?
    public var active: Bool
    /// Why it was deactivated: deleted, or a 410 from the receiver.
    public var disabledReason: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// One event on its way to one endpoint, with every attempt made.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: Int
    public var endpointID: Int
    public var eventID: Int
    public var eventType: String
    /// The `webhook-id` header every attempt carries.
    public var messageID: String
    public var status: DeliveryStatus
    /// When it is tried next; `nil` unless it is pending.
    public var nextAttemptAt: Date?
    public var createdAt: Date
    public var attempts: [WebhookAttempt]
}

/// One HTTP attempt of a delivery: its answer's status and start, or the error that stopped it.
public struct WebhookAttempt: Sendable, Equatable {
    public var attempt: Int
    public var at: Date
    public var statusCode: Int?
    public var latencyMilliseconds: Double?
    /// The first KiB of the response body (as UTF-8, invalid bytes replaced).
    public var responseStart: String?
    public var error: String?
}
