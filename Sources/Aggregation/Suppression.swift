/// Small-cell protection of a report for partner and viewer keys (DOMAIN.md, "Roles and privacy").
public enum Suppression {
    /// Who reads a protected report.
    public struct Reader: Sendable {
        /// The partner whose key asks, which sees its own rows of a `by=partner` report; `nil` for a viewer.
        public var partner: String?

        public init(partner: String?) {
            self.partner = partner
        }
    }

    /// `report` as a partner or viewer may see it: each cell is shown only if every grid cell
    /// of ``ProtectedCells`` it is made of is visible, so every number shown is a function of
    /// visible grid cells, whatever the request's shape.
    ///
    /// Besides: other partners' rows of a `by=partner` report are withheld; the minimum,
    /// maximum and median (one partner's own figures) are not shown; a withheld cell shows no
    /// counts; a stock over several periods is shown only where every series' latest value
    /// lies in the last period (or it would be a new combination of single partners' values);
    /// a change is dropped when the previous period's cell is withheld.
    public static func apply(
        _ report: Report, cells: ProtectedCells, request: ReportRequest, tree: NeighborhoodTree, method: AggregationMethod,
        reader: Reader
    ) -> Report {
        func protect(_ cell: Cell, scope: ProtectedCells.Scope) -> Cell {
            var cell = cell
            cell.min = nil
            cell.max = nil
            cell.median = nil
            if let partner = cell.key[Grouping.partner.name], partner != reader.partner {
                withhold(&cell, reason: "another partner's figures")
            } else if cell.key[Grouping.partner.name] == nil {
                let dimensions = cell.key.reduce(into: [String: String]()) { result, entry in
                    if case .dimension(let name)? = Grouping(entry.key) { result[name] = entry.value }
                }
                if let reason = cells.reason(scope: scope, dimensions: dimensions, periods: cell.periods) {
                    withhold(&cell, reason: reason)
                } else if method == .last, cell.hasStaleSeries {
                    withhold(&cell, reason: "a stock over several periods with series that stopped reporting")
                }
            }
            return cell
        }
        let reportScope: ProtectedCells.Scope = request.within.map { .subtree($0) } ?? .all
        var rows = report.rows.map { row -> Cell in
            guard let code = row.key[Grouping.neighborhood.name] else { return protect(row, scope: reportScope) }
            let scope: ProtectedCells.Scope
            if let depth = request.neighborhoodDepth, tree.depth(of: code) == depth { scope = .subtree(code) } else { scope = .own(code) }
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

    private static func withhold(_ cell: inout Cell, reason: String) {
        cell.suppressed = true
        cell.suppressionReason = reason
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
