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
    public enum Scope: Hashable, Sendable, Comparable {
        /// Every measurement (several roots).
        case all
        /// A neighborhood and everything below it.
        case subtree(String)
        /// Only the measurements reported for the neighborhood itself (one with children).
        case own(String)
    }

    struct Key: Hashable, Comparable {
        var scope: Scope
        /// One entry per dimension name, `nil` for "all values".
        var dimensions: [String?]
        var period: Period

        static func < (lhs: Key, rhs: Key) -> Bool {
            if lhs.period != rhs.period { return lhs.period < rhs.period }
            if lhs.scope != rhs.scope { return lhs.scope < rhs.scope }
            return lhs.dimensions.map { $0 ?? "" }.lexicographicallyPrecedes(rhs.dimensions.map { $0 ?? "" })
        }
    }

    /// What stands behind one grid cell.
    struct Contributions {
        var total: Double = 0
        var measurements = 0
        /// Each partner's share, by magnitude.
        var shares: [String: Double] = [:]
    }

    /// The dimension names, in a fixed order.
    let dimensionNames: [String]
    private let tree: NeighborhoodTree
    /// Withheld grid cells and why.
    private var withheld: [Key: String] = [:]
    /// How many non-empty grid cells there are, and how many are withheld (for reporting).
    public private(set) var cellCount = 0
    public var withheldCount: Int { withheld.count }

    /// Protects the grid of `partials`, which must be raw measurements (each names its partner)
    /// and cover every neighborhood of each period they contain.
    public init(raw partials: [Partial], tree: NeighborhoodTree, policy: SuppressionPolicy, isCount: Bool) {
        self.tree = tree
        self.dimensionNames = Set(partials.flatMap(\.dimensions.keys)).sorted()
        var cells: [Key: Contributions] = [:]
        var dimensionValues = Array(repeating: Set<String>(), count: dimensionNames.count)
        for partial in partials {
            let values = dimensionNames.map { partial.dimensions[$0] }
            for (index, value) in values.enumerated() { if let value { dimensionValues[index].insert(value) } }
            for scope in scopes(of: partial.neighborhood) {
                for combination in Self.combinations(of: values) {
                    let key = Key(scope: scope, dimensions: combination, period: partial.period)
                    cells[key, default: Contributions()].add(partial)
                }
            }
        }
        cellCount = cells.count
        for (key, cell) in cells {
            if let reason = Self.primaryReason(cell, policy: policy, isCount: isCount) { withheld[key] = reason }
        }
        let relations = relations(among: cells, dimensionValues: dimensionValues.map { $0.sorted() })
        protect(relations, cells: cells, policy: policy)
    }

    /// Why the cell of `scope` and `dimensions` (name → value; absent = all values) is withheld
    /// in any of `periods`; `nil` if it is visible in all of them.
    public func reason(scope: Scope, dimensions: [String: String], periods: some Sequence<Period>) -> String? {
        let scope = normalized(scope)
        let values = dimensionNames.map { dimensions[$0] }
        for period in periods {
            if let reason = withheld[Key(scope: scope, dimensions: values, period: period)] { return reason }
        }
        return nil
    }

    // MARK: The grid

    /// The cells a measurement reported for `code` counts in: its own, each ancestor's subtree, all.
    private func scopes(of code: String) -> [Scope] {
        var scopes: [Scope] = []
        for ancestor in tree.chain(of: code) { scopes.append(.subtree(ancestor)) }
        if !tree.children(of: code).isEmpty { scopes.append(.own(code)) }
        if tree.roots.count > 1 { scopes.append(.all) }
        return scopes
    }

    /// One name for cells that hold the same measurements: a leaf's own cell is its subtree,
    /// and with a single root "all" is that root's subtree.
    private func normalized(_ scope: Scope) -> Scope {
        switch scope {
        case .own(let code) where tree.children(of: code).isEmpty: return .subtree(code)
        case .all where tree.roots.count == 1: return .subtree(tree.roots[0])
        default: return scope
        }
    }

    /// Every way to replace some of `values` by "all values" (`nil`).
    private static func combinations(of values: [String?]) -> [[String?]] {
        var result: [[String?]] = [[]]
        for value in values {
            result = result.flatMap { prefix in value == nil ? [prefix + [nil]] : [prefix + [value], prefix + [nil]] }
        }
        return result
    }

    // MARK: Primary suppression

    private static func primaryReason(_ cell: Contributions, policy: SuppressionPolicy, isCount: Bool) -> String? {
        let shares = cell.shares.values.sorted(by: >)
        let magnitude = shares.reduce(0, +)
        if shares.count < policy.minPartners { return "fewer than \(format(Double(policy.minPartners))) partners" }
        if isCount, cell.total < policy.minCount { return "count below \(format(policy.minCount))" }
        if magnitude > 0, shares[0] > policy.dominance * magnitude { return "dominated by one partner" }
        if magnitude - shares[0] - shares[1] < policy.margin(shares[0]) {
            return "one partner's figure could be estimated from it"
        }
        return nil
    }

    // MARK: Secondary suppression

    /// `total` = the sum of `parts` (only cells with data; an empty cell is a known zero).
    struct Relation {
        var total: Key
        var parts: [Key]
    }

    private func relations(among cells: [Key: Contributions], dimensionValues: [[String]]) -> [Relation] {
        var relations: [Relation] = []
        for key in cells.keys.sorted() {
            var treeParts: [Key] = []
            switch key.scope {
            case .all:
                treeParts = tree.roots.map { Key(scope: .subtree($0), dimensions: key.dimensions, period: key.period) }
            case .subtree(let code):
                let children = tree.children(of: code)
                if !children.isEmpty {
                    treeParts = [Key(scope: .own(code), dimensions: key.dimensions, period: key.period)]
                        + children.map { Key(scope: normalized(.subtree($0)), dimensions: key.dimensions, period: key.period) }
                }
            case .own:
                break
            }
            if !treeParts.isEmpty { relations.append(Relation(total: key, parts: treeParts.filter { cells[$0] != nil })) }
            for (index, value) in key.dimensions.enumerated() where value == nil {
                let parts = dimensionValues[index].map { value -> Key in
                    var part = key
                    part.dimensions[index] = value
                    return part
                }
                relations.append(Relation(total: key, parts: parts.filter { cells[$0] != nil }))
            }
        }
        return relations
    }

    /// Withholds complements until every relation protects each of its withheld members.
    private mutating func protect(_ relations: [Relation], cells: [Key: Contributions], policy: SuppressionPolicy) {
        var changed = true
        while changed {
            changed = false
            for relation in relations where secure(relation, cells: cells, policy: policy) {
                changed = true
            }
        }
    }

    /// Makes one relation safe; whether it had to withhold anything.
    ///
    /// A withheld part next to a visible total must be covered by the other withheld parts;
    /// a withheld total must be covered by its withheld parts (else it is their sum of
    /// visible numbers). "Covered": their sum, less the largest share any one partner has
    /// in them (that partner knows it), reaches the member's protection margin.
    private mutating func secure(_ relation: Relation, cells: [Key: Contributions], policy: SuppressionPolicy) -> Bool {
        var changed = false
        let totalWithheld = withheld[relation.total] != nil
        let members = totalWithheld ? [relation.total] : relation.parts.filter { withheld[$0] != nil }
        for member in members {
            while true {
                let covering = relation.parts.filter { $0 != member && withheld[$0] != nil }
                let needed = policy.margin(cells[member]!.total)
                if Self.protection(covering, cells) >= needed { break }
                let candidates = relation.parts.filter { withheld[$0] == nil }
                guard !candidates.isEmpty else {
                    // Nothing left to pair with: a part is then protected by withholding the total.
                    if !totalWithheld, withheld[relation.total] == nil {
                        withheld[relation.total] = Self.complementaryReason
                        changed = true
                    }
                    break
                }
                // The smallest visible part that covers the member; else the one that covers most.
                let scored = candidates.map { ($0, Self.protection(covering + [$0], cells)) }
                let sufficient = scored.filter { $0.1 >= needed }
                    .min { (abs(cells[$0.0]!.total), $0.0) < (abs(cells[$1.0]!.total), $1.0) }
                let chosen = sufficient ?? scored.max { ($0.1, $1.0) < ($1.1, $0.0) }!
                withheld[chosen.0] = Self.complementaryReason
                changed = true
            }
        }
        return changed
    }

    /// What withheld `keys` hide from the best-placed attacker: their magnitude less the
    /// largest share one partner has in them.
    private static func protection(_ keys: [Key], _ cells: [Key: Contributions]) -> Double {
        var magnitude = 0.0
        var byPartner: [String: Double] = [:]
        for key in keys {
            guard let cell = cells[key] else { continue }
            for (partner, share) in cell.shares {
                magnitude += share
                byPartner[partner, default: 0] += share
            }
        }
        return magnitude - (byPartner.values.max() ?? 0)
    }

    public static let complementaryReason = "complementary: protects another withheld cell"
}

extension ProtectedCells.Contributions {
    mutating func add(_ partial: Partial) {
        total += partial.sum
        measurements += partial.count
        shares[partial.partner ?? "", default: 0] += abs(partial.sum)
    }
}

/// A number as people write it: whole numbers without a decimal point.
func format(_ number: Double) -> String {
    number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
}
