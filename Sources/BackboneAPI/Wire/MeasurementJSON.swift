import BackboneCore
import JSON

// Stored measurements and their audit trail as the wire spells them.

extension MeasurementRecord: JSONRepresentable {
    /// Absent values are written as `null`, so every record has the same fields.
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "partner": .string(partner), "indicator": .string(indicator),
            "neighborhood": .string(neighborhood),
            "period": .string(period), "value": JSONValue(value), "numerator": JSONValue(numerator),
            "denominator": JSONValue(denominator),
            "dimensions": JSONValue(dimensions), "note": JSONValue(note), "batch_id": .string(batchID),
            "created_at": JSONValue(createdAt), "updated_at": JSONValue(updatedAt),
        ])
    }
}

extension MeasurementSnapshot: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "value": JSONValue(value), "numerator": JSONValue(numerator), "denominator": JSONValue(denominator),
            "note": JSONValue(note),
        ])
    }
}

extension HistoryEntry: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "action": .string(action), "at": JSONValue(at), "key": .string(key), "batch_id": JSONValue(batchID),
            "old": old?.json ?? .null, "new": new?.json ?? .null,
        ])
    }
}
