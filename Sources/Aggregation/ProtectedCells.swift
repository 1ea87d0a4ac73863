/// Which cells of one indicator's native period partner and viewer keys may see, decided
/// once when the period is released (docs/domain.md#roles-and-protection; docs/privacy.md).
///
/// Reports are linked tables: the same indicator and period appear at every level of the
/// neighborhood tree, in every `within`, by dimension, in the scorecard and the equity
/// view. So protection works on one fixed grid: every node of the tree (its subtree, and
/// the measurements reported for the node itself) crossed with every combination of
/// dimension values and "all values". Every number a report shows a non-coordinator is one
/// of these cells, or a combination of visible cells of several native periods.
///
/// Three steps: primary suppression applies the policy's rules to each cell (for ratios,
/// to numerators and to denominators); complementary suppression walks every additive
/// relation of the grid (a node = its own measurements + its children; a cell = the sum
/// over one dimension's values) until each withheld member is covered by other withheld
/// members; then ``ReaderAudit`` bounds, with linear programs, every withheld value and
/// every peer's figure as each single reader could (an outsider; each partner, which knows
/// its own contributions, so every cell it alone contributes to), over this grid and the
/// grids of earlier releases of the same period, and withholds more until nothing is
/// narrowed below its margin.
public struct ProtectedCells: Sendable {
    /// Where a cell lies in the neighborhood tree.
    public enum Scope: Hashable, Sendable, CustomStringConvertible {
        /// Every measurement (several roots).
        case all
        /// A neighborhood and everything below it.
        case subtree(String)
        /// Only the measurements reported for the neighborhood itself (one with children).
        case own(String)

        /// `all`, `subtree:CODE` or `own:CODE`: how a release stores it.
        public var description: String {
            switch self {
            case .all: return "all"
            case .subtree(let code): return "subtree:\(code)"
            case .own(let code): return "own:\(code)"
            }
        }

        /// Reads ``description``.
        public init?(_ text: String) {
            if text == "all" { self = .all; return }
            if text.hasPrefix("subtree:"), text.count > 8 { self = .subtree(String(text.dropFirst(8))); return }
            if text.hasPrefix("own:"), text.count > 4 { self = .own(String(text.dropFirst(4))); return }
            return nil
        }
    }

    /// One cell of the grid: a scope and the dimension values it fixes (absent: all values).
    public struct GridCell: Hashable, Sendable {
        public var scope: Scope
        public var dimensions: [String: String]

        public init(scope: Scope, dimensions: [String: String]) {
            self.scope = scope
            self.dimensions = dimensions
        }
    }

    /// One partner's part of one measurement cell (a neighborhood and a set of dimension
    /// values) of the period: what a release keeps to protect its revisions.
    public struct Contribution: Hashable, Sendable {
        public var neighborhood: String
        public var dimensions: [String: String]
        public var partner: String
        public var measurements: Int
        public var sum: Double
        public var numerator: Double
        public var denominator: Double

        public init(
            neighborhood: String, dimensions: [String: String], partner: String, measurements: Int, sum: Double,
            numerator: Double, denominator: Double
        ) {
            self.neighborhood = neighborhood
            self.dimensions = dimensions
            self.partner = partner
            self.measurements = measurements
            self.sum = sum
            self.numerator = numerator
            self.denominator = denominator
        }

        /// Each partner's part of each measurement cell of `partials`, which must be raw measurements.
        public static func of(_ partials: [Partial]) -> [Contribution] {
            var merged: [Contribution: Int] = [:]
            var list: [Contribution] = []
            for partial in partials {
                let key = Contribution(
                    neighborhood: partial.neighborhood, dimensions: partial.dimensions, partner: partial.partner ?? "",
                    measurements: 0, sum: 0, numerator: 0, denominator: 0)
                if let index = merged[key] {
                    list[index].measurements += partial.count
                    list[index].sum += partial.sum
                    list[index].numerator += partial.sumNumerator
                    list[index].denominator += partial.sumDenominator
                } else {
                    merged[key] = list.count
                    var entry = key
                    entry.measurements = partial.count
                    entry.sum = partial.sum
                    entry.numerator = partial.sumNumerator
                    entry.denominator = partial.sumDenominator
                    list.append(entry)
                }
            }
            return list
        }
    }

    /// An earlier release of the same period: what it was made of and what it withheld.
    public struct EarlierRelease: Sendable {
        public var contributions: [Contribution]
        public var withheld: Set<GridCell>

        public init(contributions: [Contribution], withheld: Set<GridCell>) {
            self.contributions = contributions
            self.withheld = withheld
        }
    }

    /// What the indicator's values are, for the rules and the audit.
    public struct ValueRules: Sendable {
        /// Whether the count threshold applies (count indicators).
        public var isCount: Bool
        /// Whether cells publish a ratio: the rules then apply to numerators and denominators.
        public var isRatio: Bool
        /// The values one measurement can take (the indicator's declared range).
        public var range: ClosedRange<Double>

        public init(isCount: Bool, isRatio: Bool, range: ClosedRange<Double>) {
            self.isCount = isCount
            self.isRatio = isRatio
            self.range = range
        }
    }

    /// The withheld cells.
    public private(set) var withheld: Set<GridCell> = []
    /// How many non-empty grid cells there are.
    public private(set) var cellCount = 0
    /// What the audit found and did.
    public private(set) var audit = ReaderAudit.Summary()

    /// Protects the grid of `contributions` (the period's data now) against every single
    /// reader, given the `earlier` releases of the same period that readers already hold.
    public init(
        contributions: [Contribution], earlier: [EarlierRelease] = [], tree: NeighborhoodTree,
        policy: SuppressionPolicy,
        rules: ValueRules
    ) {
        let versions = earlier.map(\.contributions) + [contributions]
        let grid = Grid(tree: tree, cellsOf: versions.flatMap { $0.map { ($0.neighborhood, $0.dimensions) } })
        var protection = PeriodProtection(grid: grid, contributions: contributions, policy: policy, rules: rules)
        protection.applyPrimaryRules()
        // A revision withholds what earlier releases withheld: published now, an unchanged
        // cell would be the earlier withheld value itself.
        let earlierWithheld = earlier.map { Set($0.withheld.compactMap { grid.number(of: $0) }) }
        for cell in earlierWithheld.joined() where !protection.isEmpty(cell) { protection.withholdOnly(cell) }
        protection.secure()
        var audit = ReaderAudit(
            grid: grid, versions: versions, earlierWithheld: earlierWithheld, policy: policy, rules: rules)
        audit.run(&protection)
        self.audit = audit.summary
        cellCount = protection.nonEmptyCells
        withheld = Set(protection.withheld.map { grid.gridCell($0) })
    }
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

        /// The grid over the measurement cells `cells` (neighborhood and dimension values).
        init(tree: NeighborhoodTree, cellsOf cells: [(neighborhood: String, dimensions: [String: String])]) {
            self.tree = tree
            dimensionNames = Set(cells.flatMap(\.dimensions.keys)).sorted()
            var values = Array(repeating: Set<String>(), count: dimensionNames.count)
            for cell in cells {
                for (index, name) in dimensionNames.enumerated() {
                    if let value = cell.dimensions[name] { values[index].insert(value) }
                }
            }
            dimensionValues = values.map {
                Dictionary(uniqueKeysWithValues: $0.sorted().enumerated().map { ($1, $0 + 1) })
            }
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

        /// The number of a grid cell; nil when it names a scope or value the grid does not have.
        func number(of cell: GridCell) -> Int? {
            guard let scope = number(of: cell.scope), cell.dimensions.keys.allSatisfy(dimensionNames.contains) else {
                return nil
            }
            var combination = 0
            for (index, name) in dimensionNames.enumerated() {
                var digit = 0
                if let value = cell.dimensions[name] {
                    guard let number = dimensionValues[index][value] else { return nil }
                    digit = number
                }
                combination = combination * radices[index] + digit
            }
            return self.cell(scope: scope, combination: combination)
        }

        /// The grid cell of a number.
        func gridCell(_ number: Int) -> GridCell {
            var combination = number % combinationCount
            var dimensions: [String: String] = [:]
            for index in dimensionNames.indices.reversed() {
                let digit = combination % radices[index]
                combination /= radices[index]
                if digit > 0, let value = dimensionValues[index].first(where: { $0.value == digit })?.key {
                    dimensions[dimensionNames[index]] = value
                }
            }
            return GridCell(scope: scopes[number / combinationCount], dimensions: dimensions)
        }

        /// The cells a measurement cell counts in: each scope it falls in (its own, each
        /// ancestor's subtree, all) × each way of replacing some of its dimension values by "all values".
        func cells(of neighborhood: String, _ dimensions: [String: String]) -> [Int] {
            var scopeList: [Int] = []
            for ancestor in tree.chain(of: neighborhood) {
                if let number = scopeNumbers[.subtree(ancestor)] { scopeList.append(number) }
            }
            if let own = scopeNumbers[.own(neighborhood)] { scopeList.append(own) }
            if let all = scopeNumbers[.all] { scopeList.append(all) }
            var combinations = [0]
            for (index, name) in dimensionNames.enumerated() {
                let digit = dimensions[name].flatMap { dimensionValues[index][$0] } ?? 0
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
                    if !treeParts.isEmpty {
                        relations.append((total, treeParts.map { cell(scope: $0, combination: combination) }))
                    }
                    // Over each dimension left at "all values": the sum over its values.
                    var place = 1
                    for index in dimensionNames.indices.reversed() {
                        let digit = (combination / place) % radices[index]
                        if digit == 0 {
                            let parts = (1..<radices[index]).map {
                                cell(scope: scopeNumber, combination: combination + $0 * place)
                            }
                            relations.append((total, parts))
                        }
                        place *= radices[index]
                    }
                }
            }
            return relations
        }
    }

    /// What stands behind one grid cell, for one published quantity (a value, or a ratio's
    /// numerator or denominator).
    struct Contributions: Sendable {
        var total: Double = 0
        var measurements = 0
        /// Each partner's share, by magnitude.
        var shares: [String: Double] = [:]

        mutating func add(_ value: Double, measurements count: Int, partner: String) {
            total += value
            measurements += count
            shares[partner, default: 0] += abs(value)
        }
    }
}

// MARK: - Primary and complementary suppression

/// Primary and complementary suppression over the grid of one native period.
struct PeriodProtection {
    let grid: ProtectedCells.Grid
    /// Per published quantity (one; two for ratios: numerators, denominators), per cell.
    let quantities: [[ProtectedCells.Contributions]]
    let policy: SuppressionPolicy
    let rules: ProtectedCells.ValueRules
    /// The withheld cells.
    private(set) var withheld: Set<Int> = []
    let relations: [(total: Int, parts: [Int])]
    private let relationsOf: [Int: [Int]]

    init(
        grid: ProtectedCells.Grid, contributions: [ProtectedCells.Contribution], policy: SuppressionPolicy,
        rules: ProtectedCells.ValueRules
    ) {
        self.grid = grid
        self.policy = policy
        self.rules = rules
        let values: [(ProtectedCells.Contribution) -> Double] = rules.isRatio ? [\.numerator, \.denominator] : [\.sum]
        var quantities = values.map { _ in Array(repeating: ProtectedCells.Contributions(), count: grid.cellCount) }
        for contribution in contributions {
            for cell in grid.cells(of: contribution.neighborhood, contribution.dimensions) {
                for (index, value) in values.enumerated() {
                    quantities[index][cell].add(
                        value(contribution), measurements: contribution.measurements, partner: contribution.partner)
                }
            }
        }
        self.quantities = quantities
        let cells = quantities[0]
        relations = grid.relations().compactMap { relation in
            guard cells[relation.total].measurements > 0 else { return nil }  // an empty total has empty parts
            return (relation.total, relation.parts.filter { cells[$0].measurements > 0 })
        }
        var relationsOf: [Int: [Int]] = [:]
        for (index, relation) in relations.enumerated() {
            relationsOf[relation.total, default: []].append(index)
            for part in relation.parts { relationsOf[part, default: []].append(index) }
        }
        self.relationsOf = relationsOf
    }

    var nonEmptyCells: Int { quantities[0].filter { $0.measurements > 0 }.count }

    func isEmpty(_ cell: Int) -> Bool { quantities[0][cell].measurements == 0 }

    /// The cells that share a relation with `cell`.
    func neighbors(of cell: Int) -> [Int] {
        (relationsOf[cell] ?? []).flatMap { [relations[$0].total] + relations[$0].parts }.filter { $0 != cell }
    }

    mutating func applyPrimaryRules() {
        for cell in 0..<grid.cellCount where !isEmpty(cell) {
            if quantities.indices.contains(where: { violatesPrimaryRules(quantities[$0][cell], quantity: $0) }) {
                withheld.insert(cell)
            }
        }
    }

    /// Fewer partners than the policy wants, a small count, one partner's dominance, or
    /// the p% rule (the second-largest partner, knowing its own figure, estimates the largest).
    private func violatesPrimaryRules(_ cell: ProtectedCells.Contributions, quantity: Int) -> Bool {
        let shares = cell.shares.values.sorted(by: >)
        let magnitude = shares.reduce(0, +)
        if shares.count < policy.minPartners { return true }
        if rules.isCount, quantity == 0, cell.total < policy.minCount { return true }
        if magnitude > 0, shares[0] > policy.dominance * magnitude { return true }
        return magnitude - shares[0] - (shares.count > 1 ? shares[1] : 0) < policy.margin(shares[0])
    }

    /// Withholds `cell`, leaving complements to ``secure()``.
    mutating func withholdOnly(_ cell: Int) {
        withheld.insert(cell)
    }

    /// Withholds `cell` and complements until every relation covers each withheld member again.
    mutating func withhold(_ cell: Int) {
        guard withheld.insert(cell).inserted else { return }
        secure(startingWith: relationsOf[cell] ?? [])
    }

    /// Withholds complements until every relation protects each of its withheld members,
    /// re-checking only the relations of cells that became withheld.
    mutating func secure() {
        secure(startingWith: Array(relations.indices))
    }

    private mutating func secure(startingWith start: [Int]) {
        var pending = Array(start.reversed())
        var queued = Set(pending)
        while let index = pending.popLast() {
            queued.remove(index)
            for cell in secure(relations[index]) {
                for affected in relationsOf[cell] ?? [] where queued.insert(affected).inserted {
                    pending.append(affected)
                }
            }
        }
    }

    /// Makes one relation safe; the cells it had to withhold.
    ///
    /// A withheld part next to a visible total must be covered by the other withheld parts;
    /// a withheld total must be covered by its withheld parts (else it is their sum of
    /// visible numbers). "Covered", in every published quantity: their sum, less the largest
    /// share any one partner has in them (that partner knows it), reaches the member's margin.
    private mutating func secure(_ relation: (total: Int, parts: [Int])) -> [Int] {
        var added: [Int] = []
        let totalWithheld = withheld.contains(relation.total)
        let members = totalWithheld ? [relation.total] : relation.parts.filter { withheld.contains($0) }
        for member in members {
            while true {
                let covering = relation.parts.filter { $0 != member && withheld.contains($0) }
                if covers(covering, member) { break }
                let candidates = relation.parts.filter { !withheld.contains($0) }
                guard !candidates.isEmpty else {
                    // Nothing left to pair with: a part is then protected by withholding the total.
                    if !totalWithheld, withheld.insert(relation.total).inserted { added.append(relation.total) }
                    break
                }
                // The smallest visible part that covers the member; else the one that covers most.
                let sufficient = candidates.filter { covers(covering + [$0], member) }
                    .min { (abs(quantities[0][$0].total), $0) < (abs(quantities[0][$1].total), $1) }
                let chosen =
                    sufficient ?? candidates.min {
                        (shortfall(covering + [$0], member), $0) < (shortfall(covering + [$1], member), $1)
                    }!
                withheld.insert(chosen)
                added.append(chosen)
            }
        }
        return added
    }

    private func covers(_ keys: [Int], _ member: Int) -> Bool {
        shortfall(keys, member) <= 0
    }

    /// How far withheld `keys` fall short of protecting `member`, worst over the quantities.
    private func shortfall(_ keys: [Int], _ member: Int) -> Double {
        quantities.indices.map { quantity in
            policy.margin(quantities[quantity][member].total) - protection(keys, quantity: quantity)
        }.max()!
    }

    /// What withheld `keys` hide from the best-placed attacker: their magnitude less the
    /// largest share one partner has in them.
    private func protection(_ keys: [Int], quantity: Int) -> Double {
        var magnitude = 0.0
        var byPartner: [String: Double] = [:]
        for key in keys {
            for (partner, share) in quantities[quantity][key].shares {
                magnitude += share
                byPartner[partner, default: 0] += share
            }
        }
        return magnitude - (byPartner.values.max() ?? 0)
    }
}
