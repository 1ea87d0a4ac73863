/// Small-cell protection of a report for partner and viewer keys (docs/privacy.md;
/// docs/domain.md#roles-and-protection).
public enum Suppression {
    /// Who reads a protected report.
    public struct Reader: Sendable {
        /// The partner whose key asks, which sees its own rows of a `by=partner` report; `nil` for a viewer.
        public var partner: String?

        public init(partner: String?) {
            self.partner = partner
        }
    }

    /// `report`, cut from releases, as a partner or viewer may see it: each cell is shown only
    /// if every grid cell it is made of is visible in the releases (``WithheldCells``), so
    /// every number shown is a function of visible grid cells, whatever the request's shape.
    ///
    /// Besides: rows of other partners in a `by=partner` report are left out, not listed as
    /// withheld (that a row exists is information); the minimum, maximum and median (single
    /// partners' figures) are not shown, and neither is a ratio's mean of rates; `min` and
    /// `max` indicators show no value at all (their value *is* one partner's figure); a
    /// withheld cell shows no counts and no reason; a stock over several periods is shown only
    /// where every series' latest value lies in the last period (or it would be a new
    /// combination of single partners' values); a change is dropped when the previous
    /// period's cell is withheld.
    public static func apply(
        _ report: Report, withheld: WithheldCells, request: ReportRequest, tree: NeighborhoodTree,
        method: AggregationMethod,
        reader: Reader
    ) -> Report {
        func protect(_ cell: Cell, scope: ProtectedCells.Scope) -> Cell {
            var cell = cell
            cell.min = nil
            cell.max = nil
            cell.median = nil
            if method == .ratio { cell.mean = nil }
            guard cell.key[Grouping.partner.name] == nil else { return cell }  // the reader's own row
            let dimensions = cell.key.reduce(into: [String: String]()) { result, entry in
                if case .dimension(let name)? = Grouping(entry.key) { result[name] = entry.value }
            }
            if method == .min || method == .max
                || withheld.isWithheld(scope: scope, dimensions: dimensions, periods: cell.periods)
                || (method == .last && cell.hasStaleSeries)
            {
                withhold(&cell)
            }
            return cell
        }
        let reportScope: ProtectedCells.Scope = request.within.map { .subtree($0) } ?? .all
        var rows = report.rows.filter { row in row.key[Grouping.partner.name].map { $0 == reader.partner } ?? true }.map
        { row -> Cell in
            guard let code = row.key[Grouping.neighborhood.name] else { return protect(row, scope: reportScope) }
            let scope: ProtectedCells.Scope
            if let depth = request.neighborhoodDepth, tree.depth(of: code) == depth {
                scope = .subtree(code)
            } else {
                scope = .own(code)
            }
            return protect(row, scope: scope)
        }
        let total = protect(report.total, scope: reportScope)
        dropRevealingChanges(&rows)
        return Report(rows: rows, total: total)
    }

    private static func dropRevealingChanges(_ rows: inout [Cell]) {
        let suppressedKeys = Set(rows.filter(\.suppressed).map(\.key))
        guard !suppressedKeys.isEmpty else { return }
        for index in rows.indices where rows[index].change != nil {
            var previousKey = rows[index].key
            guard let text = previousKey["period"], let previous = Period(text)?.previous else { continue }
            previousKey["period"] = previous.description
            if suppressedKeys.contains(previousKey) { rows[index].change = nil }
        }
    }

    private static func withhold(_ cell: inout Cell) {
        cell.suppressed = true
        cell.value = nil
        cell.measurements = 0
        cell.partners = 0
        cell.partnerIDs = []
        cell.mean = nil
        cell.per1000 = nil
        cell.progress = nil
        cell.change = nil
    }
}
