import BackboneCore
import DomainModel
import JSON

// A registry record as the wire spells it: snake_case names, every field present
// (`null` when unset).
extension Agenda: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "vision": JSONValue(vision),
            "starts_on": JSONValue(startsOn?.description), "ends_on": JSONValue(endsOn?.description),
            "active": .bool(active),
            "release_after_days": JSONValue(releaseAfterDays),
            "reporting_due_days": JSONValue(reportingDueDays),
        ])
    }
}

extension Indicator: JSONRepresentable {
    public var json: JSONValue {
        func pair(_ value: PeriodValue?) -> JSONValue {
            value.map { .object(["period": .string($0.period.description), "value": .number($0.value)]) } ?? .null
        }
        return .object([
            "code": .string(code), "agenda": .string(agenda), "name": .string(name),
            "definition": JSONValue(definition),
            "unit": JSONValue(unit), "value_type": .string(valueType.rawValue),
            "aggregation": .string(aggregation.rawValue),
            "period_type": .string(periodType.rawValue), "direction": .string(direction.rawValue),
            "baseline": pair(baseline), "target": pair(target), "min": JSONValue(min), "max": JSONValue(max),
            "dimensions": .array(
                dimensions.map {
                    .object(["name": .string($0.name), "values": .array($0.values.map(JSONValue.string))])
                }),
            "active": .bool(active),
        ])
    }
}

extension Partner: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "kind": .string(kind.rawValue), "level": .string(level.rawValue),
            "contact_email": JSONValue(contactEmail), "active": .bool(active),
        ])
    }
}

extension Neighborhood: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "code": .string(code), "name": .string(name), "parent": JSONValue(parent),
            "population": JSONValue(population),
            "active": .bool(active),
        ])
    }
}

extension Commitment: JSONRepresentable {
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "partner": .string(partner), "indicator": .string(indicator),
            "neighborhood": JSONValue(neighborhood),
        ])
    }
}
