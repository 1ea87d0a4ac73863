/// The thresholds of small-cell suppression.
public struct SuppressionPolicy: Sendable, Hashable {
    /// A cell backed by fewer distinct partners is withheld.
    public var minPartners: Int
    /// A cell of a count indicator whose value is below this is withheld.
    public var minCount: Double

    public init(minPartners: Int = 3, minCount: Double = 5) {
        self.minPartners = minPartners
        self.minCount = minCount
    }
}

/// Small-cell suppression for reports shown to partners and viewers (DOMAIN.md, "Roles and privacy").
public enum Suppression {
    /// Withholds the small cells of `report`, and enough others that none can be recovered by subtraction.
    ///
    /// Primary: a cell backed by fewer than `minPartners` partners, or (count indicators) with a
    /// value below `minCount`. Complementary, while the total is visible: within every slice of
    /// rows that share all keys but one (and over all rows), a lone withheld cell takes the
    /// visible cell with the smallest value with it, until nothing changes; if there is no such
    /// cell, the total is withheld instead. Finally a visible change is dropped when the cell of
    /// the previous period is withheld, since value − change would give it away.
    public static func apply(_ report: Report, policy: SuppressionPolicy, isCount: Bool) -> Report {
        var rows = report.rows.map { primary($0, policy: policy, isCount: isCount) }
        var total = primary(report.total, policy: policy, isCount: isCount)
        while !total.suppressed {
            var changed = false
            for slice in slices(of: rows) where protect(slice, in: &rows) {
                changed = true
            }
            guard !changed else { continue }
            // Nothing left to pair a lone withheld row with: the total would equal it.
            if rows.filter(\.suppressed).count == 1 { withhold(&total, reason: complementaryReason) }
            break
        }
        dropRevealingChanges(&rows)
        return Report(rows: rows, total: total)
    }

    static let complementaryReason = "complementary: protects another withheld cell"

    private static func primary(_ cell: Cell, policy: SuppressionPolicy, isCount: Bool) -> Cell {
        var cell = cell
        if cell.partners < policy.minPartners {
            withhold(&cell, reason: "fewer than \(policy.minPartners) partners")
        } else if isCount, let value = cell.value, value < policy.minCount {
            withhold(&cell, reason: "count below \(format(policy.minCount))")
        }
        return cell
    }

    /// If exactly one row of `slice` (indices into `rows`) is withheld, withholds the visible one with the smallest value.
    private static func protect(_ slice: [Int], in rows: inout [Cell]) -> Bool {
        guard slice.filter({ rows[$0].suppressed }).count == 1 else { return false }
        let visible = slice.filter { !rows[$0].suppressed }
        guard let smallest = visible.min(by: { (rows[$0].value ?? .infinity) < (rows[$1].value ?? .infinity) }) else { return false }
        withhold(&rows[smallest], reason: complementaryReason)
        return true
    }

    /// All rows, plus for each grouping key the sets of rows that agree on every other key.
    private static func slices(of rows: [Cell]) -> [[Int]] {
        var slices = [Array(rows.indices)]
        let names = Set(rows.flatMap(\.key.keys))
        guard names.count > 1 else { return slices }
        for name in names.sorted() {
            var byRest: [[String: String]: [Int]] = [:]
            for (index, row) in rows.enumerated() {
                var rest = row.key
                rest[name] = nil
                byRest[rest, default: []].append(index)
            }
            slices += byRest.values.sorted { $0[0] < $1[0] }
        }
        return slices
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
        cell.min = nil
        cell.max = nil
        cell.mean = nil
        cell.median = nil
        cell.per1000 = nil
        cell.progress = nil
        cell.change = nil
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}
