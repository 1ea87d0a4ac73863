import BackboneCore
import DomainModel
import JSON

extension CompletenessReport: JSONRepresentable {
    /// `rate` appears only when something was committed.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "agenda": .string(agenda), "period": .string(period), "committed": JSONValue(committed),
            "reported": JSONValue(reported),
            "entries": .array(entries.map(\.json)), "partners": .array(partners.map(\.json)),
            "indicators": .array(indicators.map(\.json)),
        ]
        if let rate { members["rate"] = .number(rate) }
        return .object(members)
    }
}

extension CompletenessReport.Entry: JSONRepresentable {
    /// `neighborhood` appears only when the commitment names one.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "partner": .string(partner), "indicator": .string(indicator), "reported": .bool(reported),
            "measurements": JSONValue(measurements), "due": JSONValue(due),
            "reminders": .array(
                reminders.map { .object(["stage": .string($0.stage), "sent_at": JSONValue($0.sentAt)]) }),
        ]
        if let neighborhood { members["neighborhood"] = .string(neighborhood) }
        return .object(members)
    }
}

extension CompletenessReport.Rate: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": .string(id), "committed": JSONValue(committed), "reported": JSONValue(reported),
            "rate": .number(rate),
        ])
    }
}
