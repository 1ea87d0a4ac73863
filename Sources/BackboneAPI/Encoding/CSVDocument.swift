import BackboneCore
import JSON

/// Builds a CSV from the JSON document a route already built, so that every field the
/// JSON carries has its column, without a hand-kept list of columns: a field added to
/// the JSON later appears in the CSV by itself.
///
/// Rows, in this order:
/// - one per element of the route's main array (`rows`, `indicators`, `items`, …);
/// - one per element of every other array of objects, then one per object member
///   (such as `total`), each group in member-name order;
/// - one `report` row with the document's own plain members (`indicator`, `agenda`,
///   `from`, …), when it has any.
///
/// When rows come from more than one member, the first column, `section`, names the
/// member each row comes from (`rows`, `total`, `report`).
///
/// Cells: nested objects are flattened with `_` (`baseline_period`, `baseline_value`;
/// where such a member is null, those cells are empty and there is no `baseline` column);
/// dimension values (`dimensions`) are `dim.NAME` columns, as CSV uploads spell them;
/// arrays of plain values are joined with `,`; arrays of objects are flattened with
/// their index (`errors_0_field`); `null` is an empty cell; numbers are written as in
/// the JSON.
///
/// Columns: `section`, then the route's `leading` columns that occur (a name ending in
/// `.` stands for every column it starts), then every other column in order of first
/// appearance, walking the rows in the order above and each object's members in the
/// JSON's (sorted) key order.
enum CSVDocument {
    static func table(_ document: JSONValue, rows main: String, leading: [String] = [], omit: Set<String> = [])
        -> CSVTable
    {
        let members = (document.objectValue ?? [:]).filter { !omit.contains($0.key) }
        var sections: [(name: String, cells: [String: String], order: [String])] = []
        func add(_ name: String, _ element: JSONValue) {
            var cells: [String: String] = [:]
            var order: [String] = []
            flatten(element, prefix: "", into: &cells, order: &order)
            sections.append((name, cells, order))
        }
        var plain: [String: JSONValue] = [:]
        if case .array(let elements)? = members[main] { for element in elements { add(main, element) } }
        for name in members.keys.sorted() where name != main {
            switch members[name]! {
            case .array(let elements) where elements.contains(where: { $0.objectValue != nil }):
                for element in elements { add(name, element) }
            case .object: add(name, members[name]!)
            default: plain[name] = members[name]!
            }
        }
        if !plain.isEmpty { add("report", .object(plain)) }

        var seen: Set<String> = []
        var appearance: [String] = []
        for section in sections {
            for column in section.order where seen.insert(column).inserted { appearance.append(column) }
        }
        // A member that is an object in some rows and null in others (a scorecard line
        // without a baseline) has its flattened columns only, left empty where it is null.
        let all = appearance
        appearance.removeAll { column in
            all.contains { $0.hasPrefix(column + "_") } && sections.allSatisfy { ($0.cells[column] ?? "").isEmpty }
        }
        let columns = ordered(appearance, leading: leading)
        let sectioned = Set(sections.map(\.name)).count > 1 || (sections.isEmpty && !plain.isEmpty)
        var table = CSVTable(header: (sectioned ? ["section"] : []) + columns)
        for section in sections {
            table.append((sectioned ? [section.name] : []) + columns.map { section.cells[$0] })
        }
        return table
    }

    /// The columns in the order a table gives them: the `leading` ones that occur (a name
    /// ending in `.` stands for every column it starts), then the rest in `appearance` order.
    static func ordered(_ appearance: [String], leading: [String]) -> [String] {
        var columns: [String] = []
        for lead in leading {
            for column in appearance
            where !columns.contains(column) && (column == lead || (lead.hasSuffix(".") && column.hasPrefix(lead))) {
                columns.append(column)
            }
        }
        return columns + appearance.filter { !columns.contains($0) }
    }

    /// Writes `value`'s plain fields into `cells` under flattened names, recording their order.
    static func flatten(_ value: JSONValue, prefix: String, into cells: inout [String: String], order: inout [String]) {
        func put(_ name: String, _ text: String?) {
            if cells.updateValue(text ?? "", forKey: name) == nil { order.append(name) }
        }
        switch value {
        case .object(let members):
            for name in members.keys.sorted() {
                let member = members[name]!
                if prefix.isEmpty, name == "dimensions", case .object(let dimensions) = member {
                    for dimension in dimensions.keys.sorted() {
                        put("dim.\(dimension)", ReportEncoding.text(dimensions[dimension]!))
                    }
                } else {
                    flatten(member, prefix: prefix.isEmpty ? name : "\(prefix)_\(name)", into: &cells, order: &order)
                }
            }
        case .array(let elements) where elements.contains(where: { $0.objectValue != nil || isArray($0) }):
            for (index, element) in elements.enumerated() {
                flatten(element, prefix: "\(prefix)_\(index)", into: &cells, order: &order)
            }
        case .array(let elements):
            put(prefix, elements.compactMap(ReportEncoding.text).joined(separator: ","))
        default:
            put(prefix, ReportEncoding.text(value))
        }
    }

    private static func isArray(_ value: JSONValue) -> Bool {
        if case .array = value { return true }
        return false
    }
}
