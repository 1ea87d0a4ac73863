/// Turns partials into a report, obeying the indicator's aggregation method (DOMAIN.md, "Aggregation semantics").
public enum Aggregator {
    /// Groups `partials` by the requested keys and combines each group, and all of them for the total.
    /// With no groupings, the report is the total alone (no rows).
    ///
    /// Periods are rolled up to the report's period type; neighborhoods are filtered to `within`
    /// and mapped to their ancestor at `neighborhoodDepth`, so each measurement counts exactly once.
    /// The total is computed from the selected partials themselves, never from the rows; or,
    /// when given, from `totalPartials` (a stock's rows by native period come from per-period
    /// rollups, but its total needs each series' latest over the whole range).
    public static func report(
        _ partials: [Partial], profile: IndicatorProfile, request: ReportRequest, tree: NeighborhoodTree,
        totalPartials: [Partial]? = nil
    ) -> Report {
        let periodType = request.periodType ?? profile.periodType
        var groups: [[KeyPart]: [Partial]] = [:]
        var selected: [Partial] = []
        selected.reserveCapacity(partials.count)
        for partial in partials {
            guard let neighborhood = place(partial.neighborhood, request: request, tree: tree) else { continue }
            let key = request.groupings.map { grouping -> KeyPart in
                switch grouping {
                case .neighborhood: return .text(neighborhood)
                case .partner: return .text(partial.partner ?? (partial.partners.count == 1 ? partial.partners.first! : ""))
                case .period: return .period(partial.period.rolled(to: periodType))
                case .dimension(let name): return .text(partial.dimensions[name] ?? "")
                }
            }
            if !key.isEmpty { groups[key, default: []].append(partial) }
            selected.append(partial)
        }

        // Cells sit in an array beside their keys, found by key through positions: a
        // dictionary of cells copied a whole cell (a dozen retains) on every read and
        // write, and setting `change` while iterating copied the dictionary.
        let names = request.groupings.map(\.name)
        var keys: [[KeyPart]] = []
        var cells: [Cell] = []
        var positions: [[KeyPart]: Int] = [:]
        keys.reserveCapacity(groups.count)
        cells.reserveCapacity(groups.count)
        positions.reserveCapacity(groups.count)
        for (key, members) in groups {
            var cell = combine(members, profile: profile)
            cell.key = Dictionary(uniqueKeysWithValues: zip(names, key.map(\.text)))
            if let index = request.groupings.firstIndex(of: .neighborhood) {
                let code = key[index].text
                cell.per1000 = per1000(cell.value, of: code, profile: profile, tree: tree)
                if let depth = request.neighborhoodDepth { cell.reportedAbove = (tree.depth(of: code) ?? depth) < depth }
            }
            positions[key] = cells.count
            keys.append(key)
            cells.append(cell)
        }
        if let index = request.groupings.firstIndex(of: .period) {
            for position in cells.indices {
                guard case .period(let period) = keys[position][index], let previous = period.previous,
                      let value = cells[position].value else { continue }
                var previousKey = keys[position]
                previousKey[index] = .period(previous)
                if let before = positions[previousKey], let earlier = cells[before].value {
                    cells[position].change = value - earlier
                }
            }
        }

        if let totalPartials {
            selected = totalPartials.filter { place($0.neighborhood, request: request, tree: tree) != nil }
        }
        var total = selected.isEmpty ? emptyCell(profile: profile) : combine(selected, profile: profile)
        if let within = request.within {
            total.per1000 = per1000(total.value, of: within, profile: profile, tree: tree)
        }
        // Sort positions over the keys alone: moving or even reading a (key, cell) pair
        // copies the cell, a dozen retains and releases.
        let rows = keys.indices.sorted { KeyPart.precedes(keys[$0], keys[$1]) }.map { cells[$0] }
        return Report(rows: rows, total: total)
    }

    /// The neighborhood a measurement counts for in this report, or `nil` if it is outside `within`.
    /// Rolled up to a depth, it counts for its ancestor there; one reported above that depth
    /// keeps its own row, so that the total never depends on the level.
    private static func place(_ code: String, request: ReportRequest, tree: NeighborhoodTree) -> String? {
        if let root = request.within, !tree.isWithin(code, subtreeOf: root) { return nil }
        guard let depth = request.neighborhoodDepth else { return code }
        return tree.ancestor(of: code, atDepth: depth) ?? code
    }

    /// One cell (without its key) over `members`, which must not be empty.
    ///
    /// A stock's cell stands on each series' latest measurements only: its value, counts and
    /// statistics are theirs, whichever path (raw rows, rollups of one period, each series'
    /// latest read by SQL) the members came from.
    static func combine(_ members: [Partial], profile: IndicatorProfile) -> Cell {
        var cell = Cell()
        cell.periods = Set(members.lazy.map(\.period))
        var members = members
        if profile.method == .last { (members, cell.hasStaleSeries) = latestPerSeries(members) }
        let merged = members.dropFirst().reduce(into: members[0]) { $0.merge($1) }
        cell.measurements = merged.count
        cell.partnerIDs = merged.partners
        cell.partners = merged.partners.count
        if merged.count > 0 {
            cell.min = merged.min
            cell.max = merged.max
            cell.mean = merged.sum / Double(merged.count)
        }
        cell.median = merged.values.flatMap(median)
        switch profile.method {
        case .sum: cell.value = merged.sum
        case .mean: cell.value = cell.mean
        case .ratio: cell.value = merged.sumDenominator == 0 ? nil : merged.sumNumerator / merged.sumDenominator * profile.scale
        case .last: cell.value = merged.sum
        case .min: cell.value = cell.min
        case .max: cell.value = cell.max
        }
        setBenchmarks(&cell, profile: profile)
        return cell
    }

    /// The total of a report with nothing selected: no value, only the indicator's benchmarks.
    private static func emptyCell(profile: IndicatorProfile) -> Cell {
        var cell = Cell()
        setBenchmarks(&cell, profile: profile)
        return cell
    }

    private static func setBenchmarks(_ cell: inout Cell, profile: IndicatorProfile) {
        cell.baseline = profile.baseline?.value
        cell.target = profile.target?.value
        if let value = cell.value, let baseline = cell.baseline, let target = cell.target, target != baseline {
            cell.progress = (value - baseline) / (target - baseline)
        }
    }

    /// For stocks: the members at each series' latest period among `members` (a series is one
    /// partner's numbers for one neighborhood and one set of dimension values), and whether
    /// some series' latest period lies before the latest period of all.
    private static func latestPerSeries(_ members: [Partial]) -> (latest: [Partial], hasStaleSeries: Bool) {
        struct Series: Hashable {
            var partner: String
            var neighborhood: String
            var dimensions: [String: String]
        }
        var latest: [Series: [Partial]] = [:]
        for partial in members {
            let series = Series(partner: partial.partner ?? "", neighborhood: partial.neighborhood, dimensions: partial.dimensions)
            if let current = latest[series]?.first {
                if current.period > partial.period { continue }
                if current.period == partial.period { latest[series]!.append(partial); continue }
            }
            latest[series] = [partial]
        }
        let last = latest.values.map { $0[0].period }.max()
        return (latest.values.flatMap { $0 }, latest.values.contains { $0[0].period != last })
    }

    private static func per1000(_ value: Double?, of neighborhood: String, profile: IndicatorProfile, tree: NeighborhoodTree) -> Double? {
        guard profile.method == .sum || profile.method == .last,
              let value, let population = tree.population(of: neighborhood), population > 0 else { return nil }
        return value * 1000 / Double(population)
    }

    private static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// One component of a group key: periods order chronologically, everything else as text.
enum KeyPart: Hashable, Comparable {
    case text(String)
    case period(Period)

    var text: String {
        switch self {
        case .text(let text): return text
        case .period(let period): return period.description
        }
    }

    static func < (lhs: KeyPart, rhs: KeyPart) -> Bool {
        switch (lhs, rhs) {
        case (.period(let left), .period(let right)): return left < right
        case (.text(let left), .text(let right)): return left < right
        default: return lhs.text < rhs.text
        }
    }

    /// Whether key `lhs` sorts before `rhs`, part by part. Unlike `lexicographicallyPrecedes`
    /// it orders each differing part once: most neighbors in a sort share their first parts.
    static func precedes(_ lhs: [KeyPart], _ rhs: [KeyPart]) -> Bool {
        for (left, right) in zip(lhs, rhs) where left != right {
            return left < right
        }
        return lhs.count < rhs.count
    }
}
