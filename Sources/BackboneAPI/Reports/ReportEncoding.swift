import Aggregation
import BackboneCore
import Foundation
import JSON

/// Report cells on the wire: JSON objects and CSV rows with the same names.
enum ReportEncoding {
    /// The measures of a row, each with its name, in the order rows list them.
    static let measures: [(name: String, value: @Sendable (Cell) -> JSONValue)] = [
        ("value", { JSONValue($0.value) }),
        // A withheld cell says nothing of who stands behind it.
        ("measurements", { $0.suppressed ? .null : JSONValue($0.measurements) }),
        ("partners", { $0.suppressed ? .null : JSONValue($0.partners) }),
        ("min", { JSONValue($0.min) }), ("max", { JSONValue($0.max) }), ("mean", { JSONValue($0.mean) }),
        ("median", { JSONValue($0.median) }), ("per_1000", { JSONValue($0.per1000) }),
        ("baseline", { JSONValue($0.baseline) }), ("target", { JSONValue($0.target) }),
        ("progress", { JSONValue($0.progress) }), ("change", { JSONValue($0.change) }),
        ("suppressed", { .bool($0.suppressed) }),
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
        /// measures, `reported_above` and `open_flags`.
        let keys: [String]
        let hasDimensions: Bool
        let shape: JSONObjectShape
        /// What each of `keys` holds.
        private let members: [Member]
        /// The dimension groupings: each dimension's name (`age_group`, a key of
        /// `dimensionShape`) and its name in the cell's key (`dimension:age_group`).
        private let dimensionNames: [String]
        private let dimensionKeys: [String]
        private let dimensionShape: JSONObjectShape

        private enum Member {
            case group(String)
            case dimensions
            case measure(Int)
            case reportedAbove
            case openFlags
        }

        init(groupings: [Grouping]) {
            self.groupings = groupings
            var keys: [String] = []
            var members: [Member] = []
            var dimensionNames: [String] = []
            var dimensionKeys: [String] = []
            for grouping in groupings {
                if case .dimension(let name) = grouping {
                    dimensionNames.append(name)
                    dimensionKeys.append(grouping.name)
                    continue
                }
                keys.append(grouping.name)
                members.append(.group(grouping.name))
            }
            hasDimensions = !dimensionNames.isEmpty
            if hasDimensions {
                keys.append("dimensions")
                members.append(.dimensions)
            }
            self.keys = keys + ReportEncoding.measures.map(\.name) + ["reported_above", "open_flags"]
            self.members = members + ReportEncoding.measures.indices.map(Member.measure) + [.reportedAbove, .openFlags]
            self.dimensionNames = dimensionNames
            self.dimensionKeys = dimensionKeys
            dimensionShape = JSONObjectShape(dimensionNames)
            shape = JSONObjectShape(self.keys)
        }

        /// The cell's values in `keys`' order; `nil` leaves a member out.
        func values(_ cell: Cell) -> [JSONValue?] {
            members.map { value($0, of: cell) }
        }

        private func value(_ member: Member, of cell: Cell) -> JSONValue? {
            switch member {
            case .group(let name): return JSONValue(cell.key[name])
            case .dimensions:
                var dimensions: [String: JSONValue] = [:]
                for (name, key) in zip(dimensionNames, dimensionKeys) { dimensions[name] = JSONValue(cell.key[key]) }
                return .object(dimensions)
            case .measure(let index): return ReportEncoding.measures[index].value(cell)
            case .reportedAbove: return cell.reportedAbove.map(JSONValue.bool)
            case .openFlags: return cell.openFlags.map { JSONValue($0) }
            }
        }

        /// The cell as a JSON object.
        func json(_ cell: Cell) -> JSONValue {
            var object: [String: JSONValue] = [:]
            for (key, value) in zip(keys, values(cell)) { object[key] = value }
            return .object(object)
        }

        /// Appends the cell's JSON object to `output`, member by member.
        func write(_ cell: Cell, into output: inout [UInt8]) {
            shape.write(into: &output) { position, output in
                if case .dimensions = members[position] {
                    dimensionShape.write(into: &output) { index, output in
                        JSONValue(cell.key[dimensionKeys[index]]).write(into: &output)
                        return true
                    }
                    return true
                }
                guard let value = value(members[position], of: cell) else { return false }
                value.write(into: &output)
                return true
            }
        }
    }

    /// The releases a report was cut from; `null` for live data (the coordinator's).
    static func releases(_ releases: [Release.Stamp]?) -> JSONValue {
        releases.map { .array($0.map(\.json)) } ?? .null
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
