import BackboneCore
import JSON

// Webhook endpoints and deliveries as the wire spells them; an endpoint's secret is shown
// once, by the POST that creates it (`WebhookBody.created`), and never again.
extension WebhookEndpoint: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "url": .string(url), "events": JSONValue(events), "description": .string(description),
            "partner": JSONValue(partner), "active": .bool(active), "disabled_reason": JSONValue(disabledReason),
            "created_at": JSONValue(createdAt), "updated_at": JSONValue(updatedAt),
        ])
    }
}

extension WebhookDelivery: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "event": .object(["id": JSONValue(eventID), "type": .string(eventType)]),
            "webhook_id": .string(messageID), "status": .string(status.rawValue),
            "next_attempt_at": JSONValue(nextAttemptAt), "created_at": JSONValue(createdAt),
            "attempts": .array(attempts.map(\.json)),
        ])
    }
}

extension WebhookAttempt: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "attempt": JSONValue(attempt), "at": JSONValue(at), "status_code": JSONValue(statusCode),
            "latency_ms": JSONValue(latencyMilliseconds), "response_start": JSONValue(responseStart),
            "error": JSONValue(error),
        ])
    }
}

/// Reads a webhook endpoint's create body: `url` and `events` required, `description` optional.
enum WebhookBody {
    struct Fields: Sendable {
        var url: String
        var events: [String]
        var description: String
    }

    /// The most event types one endpoint names.
    static let maxEvents = 50

    static func fields(_ body: [String: JSONValue]) throws -> Fields {
        var reader = FieldReader(body)
        let url = reader.string("url", required: true, maxLength: 2000)
        var events: [String]?
        switch reader.raw("events", required: true) {
        case .array(let items)?:
            let texts = items.compactMap { item -> String? in
                if case .string(let text) = item { return text }
                return nil
            }
            if texts.count != items.count {
                reader.fail("events", "wrong-type", "must be an array of event type strings")
            } else if texts.isEmpty {
                reader.fail("events", "required", "must name at least one event type or \"*\"")
            } else if texts.count > maxEvents {
                reader.fail("events", "too-many", "must name at most \(maxEvents) event types")
            } else {
                events = texts
            }
        case let other?:
            reader.fail("events", "wrong-type", "must be an array of event type strings, not \(other.typeName)")
        case nil:
            break
        }
        if reader.object["description"] == .null {
            reader.fail("description", "wrong-type", "must be a string, not null; leave it out for none")
        }
        let description = reader.string("description", maxLength: 500)
        reader.rejectUnknownFields()
        guard reader.issues.isEmpty, let url, let events else { throw DomainError.invalid(reader.issues) }
        return Fields(url: url, events: events, description: description ?? "")
    }

    /// The 201 answer: the endpoint and, this once, its secret.
    static func created(_ endpoint: WebhookEndpoint, secret: String) -> JSONValue {
        guard case .object(var fields) = endpoint.json else { return endpoint.json }
        fields["secret"] = .string(secret)
        return .object(fields)
    }
}
