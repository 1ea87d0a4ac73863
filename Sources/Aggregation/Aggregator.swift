/// Turns partials into a report, obeying the indicator's aggregation method (docs/domain.md#aggregation-methods).
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
        let groupings = request.groupings
        // Each grouping's values are numbered as they are met, so a group is a few small
        // numbers: hashing and comparing those, not strings, is what grouping costs.
        var parts = groupings.map { _ in PartNumbering() }
        var groupOfKey: [[Int]: Int] = [:]
        var keys: [[Int]] = []
        var members: [[Partial]] = []
        var selected: [Partial] = []
        selected.reserveCapacity(partials.count)
        for partial in partials {
            guard let neighborhood = place(partial.neighborhood, request: request, tree: tree) else { continue }
            selected.append(partial)
            guard !groupings.isEmpty else { continue }
            var key: [Int] = []
            key.reserveCapacity(groupings.count)
            for (position, grouping) in groupings.enumerated() {
                let part: KeyPart =
                    switch grouping {
                    case .neighborhood: .text(neighborhood)
                    case .partner:
                        .text(partial.partner ?? (partial.partners.count == 1 ? partial.partners.first! : ""))
                    case .period: .period(partial.period.rolled(to: periodType))
                    case .dimension(let name): .text(partial.dimensions[name] ?? "")
                    }
                key.append(parts[position].number(of: part))
            }
            if let group = groupOfKey[key] {
                members[group].append(partial)
            } else {
                groupOfKey[key] = keys.count
                keys.append(key)
                members.append([partial])
            }
        }

        let names = groupings.map(\.name)
        let texts = parts.map { $0.values.map(\.text) }
        let neighborhoodIndex = groupings.firstIndex(of: .neighborhood)
        var cells: [Cell] = []
        cells.reserveCapacity(keys.count)
        for (key, group) in zip(keys, members) {
            var cell = combine(group, profile: profile)
            cell.key = Dictionary(
                uniqueKeysWithValues: zip(names, key.enumerated().map { texts[$0.offset][$0.element] }))
            if let index = neighborhoodIndex {
                let code = texts[index][key[index]]
                cell.per1000 = per1000(cell.value, of: code, profile: profile, tree: tree)
                if let depth = request.neighborhoodDepth {
                    cell.reportedAbove = (tree.depth(of: code) ?? depth) < depth
                }
            }
            cells.append(cell)
        }
        if let index = groupings.firstIndex(of: .period) {
            for position in cells.indices {
                guard case .period(let period) = parts[index].values[keys[position][index]],
                    let previous = period.previous,
                    let previousNumber = parts[index].existingNumber(of: .period(previous)),
                    let value = cells[position].value
                else { continue }
                var previousKey = keys[position]
                previousKey[index] = previousNumber
                if let before = groupOfKey[previousKey], let earlier = cells[before].value {
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
        // Rows in the order of their keys' values, grouping by grouping: each grouping's
        // values are ranked once, then rows compare by ranks.
        let ranks = parts.map(\.ranks)
        let rows = keys.indices.sorted { left, right in
            for (position, rank) in ranks.enumerated() where keys[left][position] != keys[right][position] {
                return rank[keys[left][position]] < rank[keys[right][position]]
            }
            return false
        }.map { cells[$0] }
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
        case .ratio:
            cell.value = merged.sumDenominator == 0 ? nil : merged.sumNumerator / merged.sumDenominator * profile.scale
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
    /// some series' latest period lies before the latest period of all. A rollup (no single
    /// partner) stands for the series of each partner it lists: one listed in an earlier
    /// rollup of its neighborhood and dimension values but not in the latest is stale too.
    private static func latestPerSeries(_ members: [Partial]) -> (latest: [Partial], hasStaleSeries: Bool) {
        struct Series: Hashable {
            var partner: String
            var neighborhood: String
            var dimensions: [String: String]
        }
        var latest: [Series: [Partial]] = [:]
        var everyPartner: [Series: PartnerSet] = [:]
        for partial in members {
            let series = Series(
                partner: partial.partner ?? "", neighborhood: partial.neighborhood, dimensions: partial.dimensions)
            everyPartner[series, default: []].formUnion(partial.partners)
            if let current = latest[series]?.first {
                if current.period > partial.period { continue }
                if current.period == partial.period { latest[series]!.append(partial); continue }
            }
            latest[series] = [partial]
        }
        let last = latest.values.map { $0[0].period }.max()
        let stale = latest.contains { series, partials in
            var latestPartners = PartnerSet()
            for partial in partials { latestPartners.formUnion(partial.partners) }
            return partials[0].period != last || latestPartners.count != everyPartner[series]?.count
        }
        return (latest.values.flatMap { $0 }, stale)
    }

    private static func per1000(
        _ value: Double?, of neighborhood: String, profile: IndicatorProfile, tree: NeighborhoodTree
    ) -> Double? {
        guard profile.method == .sum || profile.method == .last,
            let value, let population = tree.population(of: neighborhood), population > 0
        else { return nil }
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
}

/// The values of one grouping in a report, numbered 0, 1, 2… in the order they are met.
private struct PartNumbering {
    private(set) var values: [KeyPart] = []
    private var numbers: [KeyPart: Int] = [:]

    mutating func number(of part: KeyPart) -> Int {
        if let number = numbers[part] { return number }
        numbers[part] = values.count
        values.append(part)
        return values.count - 1
    }

    func existingNumber(of part: KeyPart) -> Int? { numbers[part] }

    /// Each value's place in sorted order, by its number.
    var ranks: [Int] {
        var ranks = [Int](repeating: 0, count: values.count)
        for (rank, number) in values.indices.sorted(by: { values[$0] < values[$1] }).enumerated() {
            ranks[number] = rank
        }
        return ranks
    }
}
