import Testing

@testable import Aggregation

/// Protection against each single reader, checked from outside the audit: for random
/// deployments (a district-wide partner, single-partner cells, dimensions) and for
/// revisions, each reader's linear system is written here again, over one unknown per
/// *measurement* (the audit's unknowns are aggregated per measurement cell), and every
/// withheld value and every peer's figure must keep its margin on both sides.
@Suite("Protection against each single reader")
struct ReaderAuditTests {
    static let policy = SuppressionPolicy()
    static let tree = NeighborhoodTree(
        parents: ["city": nil, "d1": "city", "d2": "city", "n1": "d1", "n2": "d1", "n3": "d1", "n4": "d2", "n5": "d2"],
        populations: [:])
    static let rules = ProtectedCells.ValueRules(
        isCount: true, isRatio: false, range: 0...Double.greatestFiniteMagnitude)
    static let ageGroups = ["16-24", "25-44", "45+"]

    /// A small linear congruential generator: the same deployment for the same seed.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Partners p0…p6 at leaves (some cells with one or two of them, some dominated), and
    /// `dp`, which serves district d1 as a whole and some of its leaves.
    static func deployment(seed: UInt64) -> [ProtectedCells.Contribution] {
        var random = Generator(state: seed)
        var contributions: [ProtectedCells.Contribution] = []
        func add(_ partner: String, _ neighborhood: String, _ group: String, _ value: Int) {
            contributions.append(
                .init(
                    neighborhood: neighborhood, dimensions: ["age_group": group], partner: partner, measurements: 1,
                    sum: Double(value),
                    numerator: 0, denominator: 0))
        }
        for leaf in ["n1", "n2", "n3", "n4", "n5"] {
            for group in ageGroups {
                let reporting = (0..<7).filter { _ in random.next(10) < 4 }
                for partner in reporting {
                    add("p\(partner)", leaf, group, 1 + random.next(random.next(4) == 0 ? 400 : 40))
                }
            }
        }
        for group in ageGroups {
            add("dp", "d1", group, 20 + random.next(300))
            if random.next(2) == 0 { add("dp", "n\(1 + random.next(3))", group, 1 + random.next(60)) }
        }
        // Contributions merge per partner and measurement cell, as a release stores them.
        var merged: [String: ProtectedCells.Contribution] = [:]
        for entry in contributions {
            let key = "\(entry.partner)|\(entry.neighborhood)|\(entry.dimensions)"
            if var existing = merged[key] {
                existing.sum += entry.sum; merged[key] = existing
            } else {
                merged[key] = entry
            }
        }
        return merged.values.sorted {
            ($0.partner, $0.neighborhood, $0.dimensions["age_group"]!) < (
                $1.partner, $1.neighborhood, $1.dimensions["age_group"]!
            )
        }
    }

    /// Every grid cell: scope × (one age group or all of them).
    static var gridCells: [ProtectedCells.GridCell] {
        var scopes: [ProtectedCells.Scope] = [
            .subtree("city"), .own("city"), .subtree("d1"), .own("d1"), .subtree("d2"), .own("d2"),
        ]
        scopes += ["n1", "n2", "n3", "n4", "n5"].map { .subtree($0) }
        let combinations: [[String: String]] = [[:]] + ageGroups.map { ["age_group": $0] }
        return scopes.flatMap { scope in combinations.map { ProtectedCells.GridCell(scope: scope, dimensions: $0) } }
    }

    static func contains(_ cell: ProtectedCells.GridCell, _ entry: ProtectedCells.Contribution) -> Bool {
        if let group = cell.dimensions["age_group"], entry.dimensions["age_group"] != group { return false }
        switch cell.scope {
        case .all: return true
        case .own(let code): return entry.neighborhood == code
        case .subtree(let code): return tree.isWithin(entry.neighborhood, subtreeOf: code)
        }
    }

    /// For `reader` (nil: the outsider), the first withheld value or peer figure it narrows
    /// below its margin, reading every release in `versions` (contributions and what each withheld).
    static func firstNarrowed(
        reader: String?, versions: [([ProtectedCells.Contribution], Set<ProtectedCells.GridCell>)]
    ) -> String? {
        // Unknowns: each other partner's measurement, one per release where it differs.
        var unknownOf: [String: Int] = [:]
        var truths: [Double] = []
        func unknown(_ entry: ProtectedCells.Contribution, version: Int) -> Int {
            let history = versions.map {
                $0.0.first {
                    $0.partner == entry.partner && $0.neighborhood == entry.neighborhood
                        && $0.dimensions == entry.dimensions
                }?.sum
            }
            let stable = history.allSatisfy { $0 == history[0] }
            let key = "\(entry.partner)|\(entry.neighborhood)|\(entry.dimensions)|\(stable ? 0 : version)"
            if let known = unknownOf[key] { return known }
            unknownOf[key] = truths.count
            truths.append(entry.sum)
            return truths.count - 1
        }
        var equations: [([(Int, Double)], Double)] = []
        var targets: [(String, [(Int, Double)], Double, Double)] = []
        // What an earlier release showed of a cell, over the others' parts.
        var shown: [ProtectedCells.GridCell: ([Int: Double], Double)] = [:]
        for (version, (entries, withheld)) in versions.enumerated() {
            for cell in gridCells {
                let members = entries.filter { contains(cell, $0) }
                guard !members.isEmpty else { continue }
                let others = members.filter { $0.partner != reader }
                var terms: [Int: Double] = [:]
                for other in others { terms[unknown(other, version: version), default: 0] += 1 }
                let total = members.reduce(0) { $0 + $1.sum }
                let unknownPart = others.reduce(0) { $0 + $1.sum }
                if withheld.contains(cell), let before = shown[cell] {
                    // Shown before: the secret is what the others changed in it.
                    let change = terms.merging(before.0.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
                    let delta = unknownPart - before.1
                    if !change.isEmpty {
                        targets.append(
                            ("the change of \(cell) in release \(version)", Array(change), delta, policy.margin(delta)))
                    }
                } else if withheld.contains(cell) {
                    if !terms.isEmpty {
                        targets.append(
                            ("\(cell) in release \(version)", Array(terms), unknownPart, policy.margin(total)))
                    }
                } else {
                    shown[cell] = (terms, unknownPart)
                    if !terms.isEmpty { equations.append((Array(terms), unknownPart)) }
                }
            }
            // Figures a correction changed, and the change itself.
            for entry in entries where entry.partner != reader {
                let history = versions.map {
                    $0.0.first {
                        $0.partner == entry.partner && $0.neighborhood == entry.neighborhood
                            && $0.dimensions == entry.dimensions
                    }
                }
                guard !history.allSatisfy({ $0?.sum == history[0]?.sum }) else { continue }
                let current = unknown(entry, version: version)
                targets.append(
                    (
                        "\(entry.partner)'s changed \(entry.sum) in release \(version)", [(current, 1)], entry.sum,
                        policy.margin(entry.sum)
                    ))
                if version > 0, let before = history[version - 1] {
                    let delta = entry.sum - before.sum
                    targets.append(
                        (
                            "\(entry.partner)'s correction \(delta)",
                            [(current, 1), (unknown(before, version: version - 1), -1)], delta, policy.margin(delta)
                        ))
                }
            }
            // Peers' figures in withheld measurement cells.
            for entry in entries where entry.partner != reader && reader != nil {
                let finest = ProtectedCells.GridCell(
                    scope: tree.children(of: entry.neighborhood).isEmpty
                        ? .subtree(entry.neighborhood) : .own(entry.neighborhood),
                    dimensions: entry.dimensions)
                if withheld.contains(finest) {
                    targets.append(
                        (
                            "\(entry.partner)'s \(entry.sum) at \(entry.neighborhood) in release \(version)",
                            [(unknown(entry, version: version), 1)], entry.sum, policy.margin(entry.sum)
                        ))
                }
            }
        }
        var program = LinearProgram(
            variableCount: truths.count, upperBounds: Array(repeating: .infinity, count: truths.count))
        for (terms, value) in equations { program.addEquality(terms, equals: value) }
        for (name, terms, truth, margin) in targets {
            guard let range = program.range(of: terms) else { return "\(name): no solution" }
            let tolerance = 1e-6 * max(1, abs(truth))
            let floor = terms.allSatisfy { $0.1 > 0 } ? max(0, truth - margin) : truth - margin
            if range.lowerBound > floor + tolerance || range.upperBound < truth + margin - tolerance {
                return "\(name) = \(truth) narrowed to \(range) by \(reader ?? "the outsider")"
            }
        }
        return nil
    }

    @Test(arguments: 1...12)
    func noSingleReaderNarrowsAWithheldValueOrAPeersFigure(seed: UInt64) {
        let contributions = Self.deployment(seed: seed)
        let protection = ProtectedCells(
            contributions: contributions, tree: Self.tree, policy: Self.policy, rules: Self.rules)
        #expect(protection.withheld.count < Self.gridCells.count, "something is published")
        let readers = [nil] + Set(contributions.map(\.partner)).sorted().map(Optional.some)
        for reader in readers {
            let narrowed = Self.firstNarrowed(reader: reader, versions: [(contributions, protection.withheld)])
            #expect(narrowed == nil, "seed \(seed): \(narrowed ?? "")")
        }
    }

    /// The district-wide partner knows whole cells (those only it contributes to): without
    /// the audit, complementary suppression alone leaves some deployment open to it.
    @Test func theAuditWithholdsWhatComplementarySuppressionLeavesOpen() {
        let added = (1...12).map {
            ProtectedCells(
                contributions: Self.deployment(seed: $0), tree: Self.tree, policy: Self.policy, rules: Self.rules
            ).audit.cellsAdded
        }
        #expect(added.contains { $0 > 0 }, "\(added)")
    }

    @Test(arguments: 1...6)
    func aRevisionGivesAwayNeitherTheCorrectedFigureNorTheCorrection(seed: UInt64) {
        let first = Self.deployment(seed: seed)
        let released = ProtectedCells(contributions: first, tree: Self.tree, policy: Self.policy, rules: Self.rules)
        // One partner corrects one figure; another adds a late row.
        var second = first
        second[Int(seed) % second.count].sum += 9
        second.append(
            .init(
                neighborhood: "n4", dimensions: ["age_group": "45+"], partner: "late", measurements: 1, sum: 17,
                numerator: 0, denominator: 0))
        let revision = ProtectedCells(
            contributions: second, earlier: [.init(contributions: first, withheld: released.withheld)], tree: Self.tree,
            policy: Self.policy,
            rules: Self.rules)
        #expect(revision.withheld.isSuperset(of: released.withheld))
        let readers = [nil] + Set(second.map(\.partner)).sorted().map(Optional.some)
        for reader in readers {
            let narrowed = Self.firstNarrowed(
                reader: reader, versions: [(first, released.withheld), (second, revision.withheld)])
            #expect(narrowed == nil, "seed \(seed): \(narrowed ?? "")")
        }
        let unchanged = ProtectedCells(
            contributions: first, earlier: [.init(contributions: first, withheld: released.withheld)], tree: Self.tree,
            policy: Self.policy,
            rules: Self.rules)
        #expect(unchanged.withheld == released.withheld, "a revision of unchanged data publishes what the release did")
    }
}
