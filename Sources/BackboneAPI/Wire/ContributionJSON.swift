import BackboneCore
import JSON

extension Contribution: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "indicator": .string(indicator), "period": .string(period.description),
            "partner": .string(partner), "text": .string(text), "quoted": .bool(quoted),
            "created_at": JSONValue(createdAt), "updated_at": JSONValue(updatedAt),
        ])
    }
}
