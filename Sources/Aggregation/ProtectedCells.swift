import JSON

/// Which cells of an indicator partner and viewer keys may see, decided once for every
/// aggregate they can ask for (DOMAIN.md, "Roles and privacy").
///
/// Reports are linked tables: the same indicator and period appear at every level of the
/// neighborhood tree, in every `within`, by dimension, in the scorecard and the equity
/// view. Protecting each table on its own lets one table's visible total give away another
/// table's withheld cell by subtraction. So protection works on one fixed grid instead:
/// for each native period, every node of the tree (its subtree, and the measurements
/// reported for the node itself) crossed with every combination of dimension values and
/// "all values". Every number a report shows a non-coordinator is one of these cells or a
/// combination of cells of several native periods that are all visible, so whatever a key
/// can request is a function of the grid's visible cells.
///
/// On the grid: primary suppression applies the policy's rules to each cell; secondary
/// suppression then walks every additive relation of the grid (a node = its own
/// measurements + its children; a cell = the sum over one dimension's values) until in
/// each relation every withheld member is covered by other withheld members worth at
/// least its protection margin, even to a partner who knows its own share of them.
public struct ProtectedCells: Sendable {
    /// Where a cell lies in the neighborhood tree.
    public enum Scope: Hashable, Sendable {
        /// Every measurement (several roots).
        case all
        /// A neighborhood and everything below it.
        case subtree(String)
        /// Only the measurements reported for the neighborhood itself (one with children).
        case own(String)
    }

    /// The grid's axes, numbered: cell = scope × dimension combination, per period.
    private let grid: Grid
    /// Withheld cells and why, per native period.
    private var withheld: [Period: [Int: String]] = [:]
    /// How many non-empty grid cells there are, over all periods.
    public private(set) var cellCount = 0
    /// How many of them are withheld.
    public var withheldCount: Int { withheld.values.reduce(0) { $0 + $1.count } }

    /// Protects the grid of `partials`, which must be raw measurements (each names its partner)
    /// and cover every neighborhood of each period they contain.
    public init(raw partials: [Partial], tree: NeighborhoodTree, policy: SuppressionPolicy, isCount: Bool) {
        grid = Grid(tree: tree, partials: partials)
        var partnerNumbers: [String: Int] = [:]
        for (period, members) in Dictionary(grouping: partials, by: \.period) {
            var cells = Array(repeating: Contributions(), count: grid.cellCount)
            for partial in members {
                let partner = partnerNumbers[partial.partner ?? ""] ?? {
                    partnerNumbers[partial.partner ?? ""] = partnerNumbers.count
                    return partnerNumbers.count - 1
                }()
                for cell in grid.cells(of: partial) { cells[cell].add(partial, partner: partner) }
            }
            var protection = PeriodProtection(grid: grid, cells: cells, policy: policy)
            protection.applyPrimaryRules(isCount: isCount)
            protection.secure()
            cellCount += cells.filter { $0.measurements > 0 }.count
            if !protection.reasons.isEmpty { withheld[period] = protection.reasons }
        }
    }

    /// Why the cell of `scope` and `dimensions` (name → value; absent = all values) is withheld
    /// in any of `periods`; `nil` if it is visible in all of them.
    public func reason(scope: Scope, dimensions: [String: String], periods: some Sequence<Period>) -> String? {
        guard let cell = grid.cell(scope: scope, dimensions: dimensions) else { return nil }
        for period in periods {
            if let reason = withheld[period]?[cell] { return reason }
        }
        return nil
    }

    public static let complementaryReason = "complementary: protects another withheld cell"
}

// MARK: - The grid

extension ProtectedCells {
    /// Numbers the grid's scopes and dimension combinations so that a cell is one integer.
    struct Grid: Sendable {
        let tree: NeighborhoodTree
        /// Scope → number; `.own` of a leaf and `.all` over one root are not separate scopes.
        private(set) var scopeNumbers: [Scope: Int] = [:]
        private(set) var scopes: [Scope] = []
        let dimensionNames: [String]
        /// Per dimension: value → its number, 1-based (0 stands for "all values").
        let dimensionValues: [[String: Int]]
        /// The mixed radix of a combination: per dimension, the number of values + 1.
        let radices: [Int]
        let combinationCount: Int
        var cellCount: Int { scopes.count * combinationCount }

        init(tree: NeighborhoodTree, partials: [Partial]) {
            self.tree = tree
            dimensionNames = Set(partials.flatMap(\.dimensions.keys)).sorted()
            var values = Array(repeating: Set<String>(), count: dimensionNames.count)
            for partial in partials {
                for (index, name) in dimensionNames.enumerated() { if let value = partial.dimensions[name] { values[index].insert(value) } }
            }
            dimensionValues = values.map { Dictionary(uniqueKeysWithValues: $0.sorted().enumerated().map { ($1, $0 + 1) }) }
            radices = values.map { $0.count + 1 }
            combinationCount = radices.reduce(1, *)
            if tree.roots.count > 1 { add(.all) }
            for code in tree.roots { addSubtree(code) }
        }

        private mutating func add(_ scope: Scope) {
            scopeNumbers[scope] = scopes.count
            scopes.append(scope)
        }

        private mutating func addSubtree(_ code: String) {
            add(.subtree(code))
            let children = tree.children(of: code)
            guard !children.isEmpty else { return }
            add(.own(code))
            for child in children { addSubtree(child) }
        }

        /// The number of a scope, after folding `.own` of a leaf and `.all` over one root.
        func number(of scope: Scope) -> Int? {
            switch scope {
            case .own(let code) where tree.children(of: code).isEmpty: return scopeNumbers[.subtree(code)]
            case .all where tree.roots.count == 1: return scopeNumbers[.subtree(tree.roots[0])]
            default: return scopeNumbers[scope]
            }
        }

        func cell(scope: Int, combination: Int) -> Int { scope * combinationCount + combination }

        func cell(scope: Scope, dimensions: [String: String]) -> Int? {
            guard let scope = number(of: scope) else { return nil }
            var combination = 0
            for (index, name) in dimensionNames.enumerated() {
                var digit = 0
                if let value = dimensions[name] {
                    guard let number = dimensionValues[index][value] else { return nil }
                    digit = number
                }
                combination = combination * radices[index] + digit
            }
            return cell(scope: scope, combination: combination)
        }

        /// The cells a measurement counts in: each scope it falls in (its own, each ancestor's
        /// subtree, all) × each way of replacing some of its dimension values by "all values".
        func cells(of partial: Partial) -> [Int] {
            var scopeList: [Int] = []
            for ancestor in tree.chain(of: partial.neighborhood) { if let number = scopeNumbers[.subtree(ancestor)] { scopeList.append(number) } }
            if let own = scopeNumbers[.own(partial.neighborhood)] { scopeList.append(own) }
            if let all = scopeNumbers[.all] { scopeList.append(all) }
            var combinations = [0]
            for (index, name) in dimensionNames.enumerated() {
                let digit = partial.dimensions[name].flatMap { dimensionValues[index][$0] } ?? 0
                combinations = combinations.flatMap { prefix in
                    digit == 0 ? [prefix * radices[index]] : [prefix * radices[index] + digit, prefix * radices[index]]
                }
            }
            return scopeList.flatMap { scope in combinations.map { cell(scope: scope, combination: $0) } }
        }

        /// Every additive relation of the grid: `total` = the sum of `parts`.
        func relations() -> [(total: Int, parts: [Int])] {
            var relations: [(total: Int, parts: [Int])] = []
            for (scopeNumber, scope) in scopes.enumerated() {
                var treeParts: [Int] = []
                switch scope {
                case .all: treeParts = tree.roots.compactMap { scopeNumbers[.subtree($0)] }
                case .subtree(let code):
                    if let own = scopeNumbers[.own(code)] {
                        treeParts = [own] + tree.children(of: code).compactMap { scopeNumbers[.subtree($0)] }
                    }
                case .own: break
                }
                for combination in 0..<combinationCount {
                    let total = cell(scope: scopeNumber, combination: combination)
                    if !treeParts.isEmpty { relations.append((total, treeParts.map { cell(scope: $0, combination: combination) })) }
                    // Over each dimension left at "all values": the sum over its values.
                    var place = 1
                    for index in dimensionNames.indices.reversed() {
                        let digit = (combination / place) % radices[index]
                        if digit == 0 {
                            let parts = (1..<radices[index]).map { cell(scope: scopeNumber, combination: combination + $0 * place) }
                            relations.append((total, parts))
                        }
                        place *= radices[index]
                    }
                }
            }
            return relations
        }
    }

    /// What stands behind one grid cell.
    struct Contributions: Sendable {
        var total: Double = 0
        var measurements = 0
        /// Each partner's share, by magnitude, keyed by a partner number.
        var shares: [Int: Double] = [:]

        mutating func add(_ partial: Partial, partner: Int) {
            total += partial.sum
            measurements += partial.count
            shares[partner, default: 0] += abs(partial.sum)
        }
    }
}

// MARK: - Suppression within one period

/// Primary and complementary suppression over the grid of one native period.
private struct PeriodProtection {
    let grid: ProtectedCells.Grid
    let cells: [ProtectedCells.Contributions]
    let policy: SuppressionPolicy
    /// Withheld cells and why.
    var reasons: [Int: String] = [:]

    init(grid: ProtectedCells.Grid, cells: [ProtectedCells.Contributions], policy: SuppressionPolicy) {
        self.grid = grid
        self.cells = cells
        self.policy = policy
    }

    mutating func applyPrimaryRules(isCount: Bool) {
        for (index, cell) in cells.enumerated() where cell.measurements > 0 {
            if let reason = Self.primaryReason(cell, policy: policy, isCount: isCount) { reasons[index] = reason }
        }
    }

    static func primaryReason(_ cell: ProtectedCells.Contributions, policy: SuppressionPolicy, isCount: Bool) -> String? {
        let shares = cell.shares.values.sorted(by: >)
        let magnitude = shares.reduce(0, +)
        if shares.count < policy.minPartners { return "fewer than \(JSONNumber.text(Double(policy.minPartners))) partners" }
        if isCount, cell.total < policy.minCount { return "count below \(JSONNumber.text(policy.minCount))" }
        if magnitude > 0, shares[0] > policy.dominance * magnitude { return "dominated by one partner" }
        if magnitude - shares[0] - (shares.count > 1 ? shares[1] : 0) < policy.margin(shares[0]) {
            return "one partner's figure could be estimated from it"
        }
        return nil
    }

    /// Withholds complements until every relation protects each of its withheld members,
    /// re-checking only the relations of cells that became withheld.
    mutating func secure() {
        let relations = grid.relations().compactMap { relation -> (total: Int, parts: [Int])? in
            guard cells[relation.total].measurements > 0 else { return nil }  // an empty total has empty parts
            return (relation.total, relation.parts.filter { cells[$0].measurements > 0 })
        }
        var relationsOf: [Int: [Int]] = [:]
        for (index, relation) in relations.enumerated() {
            relationsOf[relation.total, default: []].append(index)
            for part in relation.parts { relationsOf[part, default: []].append(index) }
        }
        var pending = Array(relations.indices.reversed())
        var queued = Set(pending)
        while let index = pending.popLast() {
            queued.remove(index)
            for cell in secure(relations[index]) {
                for affected in relationsOf[cell] ?? [] where queued.insert(affected).inserted { pending.append(affected) }
            }
        }
    }

    /// Makes one relation safe; the cells it had to withhold.
    ///
    /// A withheld part next to a visible total must be covered by the other withheld parts;
    /// a withheld total must be covered by its withheld parts (else it is their sum of
    /// visible numbers). "Covered": their sum, less the largest share any one partner has
    /// in them (that partner knows it), reaches the member's protection margin.
    private mutating func secure(_ relation: (total: Int, parts: [Int])) -> [Int] {
        var added: [Int] = []
        let totalWithheld = reasons[relation.total] != nil
        let members = totalWithheld ? [relation.total] : relation.parts.filter { reasons[$0] != nil }
        for member in members {
            while true {
                let covering = relation.parts.filter { $0 != member && reasons[$0] != nil }
                let needed = policy.margin(cells[member].total)
                if protection(covering) >= needed { break }
                let candidates = relation.parts.filter { reasons[$0] == nil }
                guard !candidates.isEmpty else {
                    // Nothing left to pair with: a part is then protected by withholding the total.
                    if !totalWithheld, reasons[relation.total] == nil {
                        reasons[relation.total] = ProtectedCells.complementaryReason
                        added.append(relation.total)
                    }
                    break
                }
                // The smallest visible part that covers the member; else the one that covers most.
                let scored = candidates.map { ($0, protection(covering + [$0])) }
                let sufficient = scored.filter { $0.1 >= needed }.min { (abs(cells[$0.0].total), $0.0) < (abs(cells[$1.0].total), $1.0) }
                let chosen = sufficient ?? scored.max { ($0.1, $1.0) < ($1.1, $0.0) }!
                reasons[chosen.0] = ProtectedCells.complementaryReason
                added.append(chosen.0)
            }
        }
        return added
    }

    /// What withheld `keys` hide from the best-placed attacker: their magnitude less the
    /// largest share one partner has in them.
    private func protection(_ keys: [Int]) -> Double {
        var magnitude = 0.0
        var byPartner: [Int: Double] = [:]
        for key in keys {
            for (partner, share) in cells[key].shares {
                magnitude += share
                byPartner[partner, default: 0] += share
            }
        }
        return magnitude - (byPartner.values.max() ?? 0)
    }
}

