import BackboneCore
import JSON

extension PeriodLock: JSONRepresentable {
    /// A lock's dates are days; `ends_before` is the first day it no longer covers.
    public var json: JSONValue {
        .object([
            "id": JSONValue(id), "agenda": JSONValue(agenda), "indicator": JSONValue(indicator),
            "period": .string(period),
            "reason": JSONValue(reason), "starts_on": .string(start.description),
            "ends_before": .string(end.description),
        ])
    }
}
