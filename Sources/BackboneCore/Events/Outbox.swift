import Foundation
import JSON
import Postgres

/// What happened, as webhooks name it (docs/events.md).
public enum EventType: String, Sendable, CaseIterable {
    case measurementsSubmitted = "measurements.submitted"
    case measurementsCorrected = "measurements.corrected"
    case periodLocked = "period.locked"
    case releasePublished = "release.published"
    case publicationPublished = "publication.published"
    case flagOpened = "flag.opened"
    case flagClosed = "flag.closed"
    case reminderDue = "reminder.due"
    case reminderOverdue = "reminder.overdue"
    case digestOverdue = "digest.overdue"
    /// A test event for one endpoint.
    case ping
}

/// The outbox: events written in the transaction of the change that causes them, so none is
/// lost and none is sent for a change that rolled back. Deliveries are made from it later.
public enum Outbox {
    /// Appends an event in `connection`'s current transaction and returns its id. `partner`
    /// names the partner it concerns (only that partner's endpoints and the coordinator's
    /// receive it); `endpoint` sends it to that endpoint alone.
    @discardableResult
    public static func append(
        _ connection: Connection, _ type: EventType, agenda: String?, partner: String?, endpoint: Int? = nil,
        data: JSONValue
    ) throws -> Int {
        let text = String(decoding: data.jsonBytes, as: UTF8.self)
        return try connection.query(
            """
            INSERT INTO outbox_events (type, agenda_id, partner_id, endpoint_id, data)
            VALUES (\(type.rawValue), \(agenda), \(partner), \(endpoint), \(text)::jsonb) RETURNING id
            """
        )[0].decode(Int.self)
    }
}

/// Which reminder of a cell: before it is due, or after.
public enum ReminderStage: String, Sendable, CaseIterable {
    case due, overdue
}

/// Where one event stands for one endpoint.
public enum DeliveryStatus: String, Sendable, CaseIterable {
    /// Not delivered yet: waiting for its next attempt.
    case pending
    /// The endpoint answered 2xx.
    case delivered
    /// Given up: every retry failed, or the endpoint answered 410.
    case failed
    /// Not to be sent: the endpoint was deleted or disabled before it was.
    case cancelled
}
