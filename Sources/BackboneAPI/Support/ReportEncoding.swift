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
        RowShape(groupings: groupings).json(cell)
    }

    /// The members of a report row for given groupings: keys fixed once, values per cell.
    /// Writing rows through it gives the same bytes as writing `json(_:groupings:)`.
    struct RowShape {
        let groupings: [Grouping]
        /// The non-dimension groupings' names, `dimensions` when there are any, the
        /// measures and `reported_above`.
        let keys: [String]
        let hasDimensions: Bool
        let shape: JSONObjectShape

        init(groupings: [Grouping]) {
            self.groupings = groupings
            hasDimensions = groupings.contains { if case .dimension = $0 { true } else { false } }
            var keys: [String] = []
            for grouping in groupings {
                if case .dimension = grouping { continue }
                keys.append(grouping.name)
            }
            if hasDimensions { keys.append("dimensions") }
            self.keys = keys + measureColumns + ["reported_above"]
            shape = JSONObjectShape(self.keys)
        }

        /// The cell's values in `keys`' order; `nil` leaves a member out.
        func values(_ cell: Cell) -> [JSONValue?] {
            var values: [JSONValue?] = []
            values.reserveCapacity(keys.count)
            var dimensions: [String: JSONValue] = [:]
            for grouping in groupings {
                let value = JSONValue(cell.key[grouping.name])
                switch grouping {
                case .dimension(let name): dimensions[name] = value
                default: values.append(value)
                }
            }
            if hasDimensions { values.append(.object(dimensions)) }
            values.append(contentsOf: measures(cell))
            values.append(cell.reportedAbove.map(JSONValue.bool))
            return values
        }

        /// The cell as a JSON object.
        func json(_ cell: Cell) -> JSONValue {
            var object: [String: JSONValue] = [:]
            for (key, value) in zip(keys, values(cell)) { object[key] = value }
            return .object(object)
        }

        /// Appends the cell's JSON object to `output`.
        func write(_ cell: Cell, into output: inout [UInt8]) {
            shape.write(values(cell), into: &output)
        }
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
