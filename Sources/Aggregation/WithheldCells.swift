/// The withheld grid cells of the releases a report is cut from, per native period: what
/// ``Suppression`` checks each report cell against.
public struct WithheldCells: Sendable {
    private var byPeriod: [Period: Set<ProtectedCells.GridCell>] = [:]
    /// Periods whose release placed its neighborhoods in another tree than today's: their
    /// grid cells no longer match today's report cells, so every cell over them is withheld.
    private var misplaced: Set<Period> = []

    public init() {}

    /// Adds a period's withheld cells as its release stored them; `treeMatches` says whether
    /// every neighborhood with data in it has the same ancestors today as then.
    public mutating func add(_ period: Period, withheld: Set<ProtectedCells.GridCell>, treeMatches: Bool) {
        byPeriod[period, default: []].formUnion(withheld)
        if !treeMatches { misplaced.insert(period) }
    }

    /// Adds every period of `other`.
    public mutating func formUnion(_ other: WithheldCells) {
        byPeriod.merge(other.byPeriod) { $0.union($1) }
        misplaced.formUnion(other.misplaced)
    }

    /// Whether the cell of `scope` and `dimensions` (name → value; absent = all values) is
    /// withheld in any of `periods`.
    public func isWithheld(scope: ProtectedCells.Scope, dimensions: [String: String], periods: some Sequence<Period>)
        -> Bool
    {
        let cell = ProtectedCells.GridCell(scope: scope, dimensions: dimensions)
        return periods.contains { misplaced.contains($0) || byPeriod[$0]?.contains(cell) == true }
    }

    /// `withheld` with each cell also under the other names the same cell has in `tree`
    /// (the own measurements of a leaf are its subtree; one root's subtree is everything),
    /// so that a report names it either way.
    public static func withAliases(_ withheld: Set<ProtectedCells.GridCell>, tree: NeighborhoodTree) -> Set<
        ProtectedCells.GridCell
    > {
        var all = withheld
        for cell in withheld {
            var alias = cell
            switch cell.scope {
            case .subtree(let code) where tree.children(of: code).isEmpty: alias.scope = .own(code)
            case .own(let code) where tree.children(of: code).isEmpty: alias.scope = .subtree(code)
            case .subtree(let code) where tree.roots == [code]: alias.scope = .all
            case .all where tree.roots.count == 1: alias.scope = .subtree(tree.roots[0])
            default: continue
            }
            all.insert(alias)
        }
        return all
    }
}
