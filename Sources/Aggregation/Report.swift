/// An aggregate report: one cell per group, sorted by key, and the total over every selected measurement.
public struct Report: Sendable, Hashable {
    public var rows: [Cell]
    public var total: Cell

    public init(rows: [Cell], total: Cell) {
        self.rows = rows
        self.total = total
    }
}
