import JSON

/// CSV rows of records that share one JSON shape, one record at a time: what
/// `CSVDocument.table` makes of a list of them (the same columns, cells and order), for a
/// stream that cannot hold the whole list.
///
/// The columns come from one record's JSON, `prototype`, whose `dimensions` name every
/// dimension any streamed record carries; a record without one of them leaves its cell empty.
struct CSVRecords {
    let columns: [String]

    init(prototype: JSONValue, leading: [String]) {
        var cells: [String: String] = [:]
        var appearance: [String] = []
        CSVDocument.flatten(prototype, prefix: "", into: &cells, order: &appearance)
        columns = CSVDocument.ordered(appearance, leading: leading)
    }

    /// The header row.
    var header: String { CSVTable.line(columns) }

    /// A record's row, from its JSON.
    func row(_ record: JSONValue) -> String {
        var cells: [String: String] = [:]
        var order: [String] = []
        CSVDocument.flatten(record, prefix: "", into: &cells, order: &order)
        return CSVTable.line(columns.map { cells[$0] })
    }
}
