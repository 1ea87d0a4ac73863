import Aggregation
import BackboneCore
import Foundation

/// Report cells on the wire: JSON objects and CSV rows with the same names.
enum ReportEncoding {
    static let measureColumns = [
        "value", "measurements", "partners", "min", "max", "mean", "median", "per_1000", "baseline", "target",
        "progress", "change", "suppressed", "suppression_reason",
    ]

    /// A cell as JSON; only the requested groupings appear, dimensions under `dimensions`.
    static func json(_ cell: Cell, groupings: [Grouping]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        object.reserveCapacity(groupings.count + measureColumns.count + 1)
        var dimensions: [String: JSONValue] = [:]
        for grouping in groupings {
            let value = JSONValue(cell.key[grouping.name])
            switch grouping {
            case .dimension(let name): dimensions[name] = value
            default: object[grouping.name] = value
            }
        }
        if !dimensions.isEmpty { object["dimensions"] = .object(dimensions) }
        for (name, value) in zip(measureColumns, measures(cell)) { object[name] = value }
        if let above = cell.reportedAbove { object["reported_above"] = .bool(above) }
        return .object(object)
    }

    static func measures(_ cell: Cell) -> [JSONValue] {
        [
            // A withheld cell says nothing of who stands behind it.
            JSONValue(cell.value), cell.suppressed ? .null : JSONValue(cell.measurements), cell.suppressed ? .null : JSONValue(cell.partners),
            JSONValue(cell.min), JSONValue(cell.max),
            JSONValue(cell.mean), JSONValue(cell.median), JSONValue(cell.per1000), JSONValue(cell.baseline), JSONValue(cell.target),
            JSONValue(cell.progress), JSONValue(cell.change), .bool(cell.suppressed), JSONValue(cell.suppressionReason),
        ]
    }

    /// Shortest text that reads back to the same number.
    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .null: return nil
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return JSONNumber.text(number)
        case .string(let text): return text
        default: return nil
        }
    }
}
