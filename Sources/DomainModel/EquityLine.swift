import Aggregation

/// One neighborhood against the universal target.
public struct EquityLine: Sendable {
    public var neighborhood: String
    public var population: Int?
    public var cell: Cell
    /// How far the value is from the target in the better direction (positive: short of it).
    public var gap: Double?

    public init(neighborhood: String, population: Int?, cell: Cell, gap: Double?) {
        self.neighborhood = neighborhood
        self.population = population
        self.cell = cell
        self.gap = gap
    }
}
