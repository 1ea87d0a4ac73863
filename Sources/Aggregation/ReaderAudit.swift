/// Bounds, as each single reader could, every withheld value and every peer's figure of a
/// released period, and withholds more cells until nothing is narrowed below its margin
/// (docs/privacy.md, "What the audit checks").
///
/// A reader is an outsider, who knows only what is published, or one partner, who also
/// knows its own contribution to every measurement cell (and so every cell it alone
/// contributes to). What it reads: every visible grid cell of this release and of each
/// earlier release of the same period (a revision is read beside what came before).
///
/// The unknowns, per reader and published quantity (a value; a ratio's numerators and its
/// denominators): per measurement cell, the other partners' part that is the same in every
/// release (one unknown), and each other partner's part that changed between releases (one
/// unknown per release, so that the reader knows which figures a correction touched).
/// Each lies within the indicator's declared range × its measurements. Each visible cell
/// of each release is an equation over them. The targets: every withheld cell no earlier
/// release published, and for one that was published, what the others changed in it since;
/// every other partner's figure that changed between releases and the change itself (so
/// that two releases' difference gives none away); and for a partner reader every peer's
/// figure in a measurement cell some release withholds. Each is minimised and maximised;
/// the interval must reach the true value's margin on both sides, or the bound the
/// declared range sets.
public struct ReaderAudit: Sendable {
    /// What an audit did.
    public struct Summary: Sendable, Equatable {
        /// Cells withheld because an audit found a target narrowed.
        public var cellsAdded = 0
    }

    private let grid: ProtectedCells.Grid
    private let policy: SuppressionPolicy
    private let rules: ProtectedCells.ValueRules
    /// The measurement cells (neighborhood, dimensions) over every release, numbered.
    private let measurementCells: [(neighborhood: String, dimensions: [String: String])]
    /// Per measurement cell: the grid cells it counts in, the finest first.
    private let gridCellsOf: [[Int]]
    /// Per grid cell: the measurement cells in it.
    private let members: [[Int]]
    /// Per release (earlier ones, then this one), per measurement cell, per partner: its part.
    private let parts: [[[String: Part]]]
    private let earlierWithheld: [Set<Int>]
    private let readers: [String?]
    /// Targets found protected: more withheld cells only widen what a reader can know.
    private var verified: Set<String> = []
    private(set) var summary = Summary()

    struct Part: Equatable {
        var measurements: Int
        var values: [Double]
    }

    init(
        grid: ProtectedCells.Grid, versions: [[ProtectedCells.Contribution]], earlierWithheld: [Set<Int>],
        policy: SuppressionPolicy, rules: ProtectedCells.ValueRules
    ) {
        self.grid = grid
        self.policy = policy
        self.rules = rules
        self.earlierWithheld = earlierWithheld
        var numbers: [MeasurementCellKey: Int] = [:]
        var cells: [(neighborhood: String, dimensions: [String: String])] = []
        var parts: [[[String: Part]]] = []
        var partners: Set<String> = []
        for version in versions {
            var byCell: [[String: Part]] = Array(repeating: [:], count: cells.count)
            for contribution in version {
                let key = MeasurementCellKey(
                    neighborhood: contribution.neighborhood, dimensions: contribution.dimensions)
                let number =
                    numbers[key]
                    ?? {
                        numbers[key] = cells.count
                        cells.append((contribution.neighborhood, contribution.dimensions))
                        byCell.append([:])
                        return cells.count - 1
                    }()
                let values = rules.isRatio ? [contribution.numerator, contribution.denominator] : [contribution.sum]
                byCell[number][contribution.partner] = Part(measurements: contribution.measurements, values: values)
                partners.insert(contribution.partner)
            }
            parts.append(byCell)
        }
        self.parts = parts.map { $0 + Array(repeating: [:], count: cells.count - $0.count) }
        measurementCells = cells
        gridCellsOf = cells.map { cell in
            let finest = grid.number(
                of: ProtectedCells.GridCell(scope: .own(cell.neighborhood), dimensions: cell.dimensions))
            let all = grid.cells(of: cell.neighborhood, cell.dimensions)
            return finest.map { finest in [finest] + all.filter { $0 != finest } } ?? all
        }
        var members = Array(repeating: [Int](), count: grid.cellCount)
        for (number, cells) in gridCellsOf.enumerated() { for cell in cells { members[cell].append(number) } }
        self.members = members
        readers = [nil] + partners.sorted().map(Optional.some)
    }

    private struct MeasurementCellKey: Hashable {
        var neighborhood: String
        var dimensions: [String: String]
    }

    /// Audits every reader; withholds cells in `protection` (this release) until no target is narrowed.
    mutating func run(_ protection: inout PeriodProtection) {
        let quantities = rules.isRatio ? 2 : 1
        var unfixable: Set<String> = []
        // How many cells were withheld when each reader was last audited: withholding only
        // widens what a reader can know, but a newly withheld cell is a new target.
        var auditedAt: [String?: Int] = [:]
        // Passes until none withholds more: a cell withheld for one reader can make another
        // reader's knowledge matter (below).
        var withheldBefore = -1
        while withheldBefore != protection.withheld.count {
            withheldBefore = protection.withheld.count
            for reader in readers
            where auditedAt[reader] != protection.withheld.count
                && (reader == nil || knowsMore(reader!, than: protection.withheld))
            {
                for quantity in 0..<quantities {
                    while true {
                        let system = System(
                            audit: self, reader: reader, quantity: quantity, current: protection.withheld)
                        guard let narrowed = firstNarrowed(system, skipping: unfixable) else { break }
                        if let cell = complement(for: narrowed.anchor, in: protection) {
                            protection.withhold(cell)
                            summary.cellsAdded += 1
                        } else {
                            // Only earlier releases pin it: nothing this release withholds can help.
                            unfixable.insert(narrowed.id)
                        }
                    }
                }
                auditedAt[reader] = protection.withheld.count
            }
        }
    }

    /// Whether `partner` knows more than the outsider: it contributes to a measurement cell
    /// that some release withholds, or one of its figures changed between releases (its own
    /// change, subtracted from a published one, is the others'). Where every cell it
    /// contributes to is published and none of its figures changed, what it knows of its own
    /// is published too, and the outsider's audit covers it.
    private func knowsMore(_ partner: String, than current: Set<Int>) -> Bool {
        measurementCells.indices.contains { cell in
            let history = parts.map { $0[cell][partner] }
            if history.contains(where: { $0 != history[0] }) { return true }
            return parts.indices.contains { version in
                guard history[version] != nil else { return false }
                let withheld = version == parts.count - 1 ? current : earlierWithheld[version]
                return withheld.contains(gridCellsOf[cell][0])
            }
        }
    }

    /// One thing a reader must not narrow: a linear expression over the unknowns.
    struct Target {
        var id: String
        var terms: [Int: Double]
        var truth: Double
        var margin: Double
        /// The grid cell to withhold around when it is narrowed.
        var anchor: Int
    }

    private mutating func firstNarrowed(_ system: System, skipping unfixable: Set<String>) -> Target? {
        let open = system.targets.filter { !verified.contains($0.id) && !unfixable.contains($0.id) }
        guard !open.isEmpty else { return nil }
        // Two feasible points, found by pushing every open target down at once and then up
        // (each scaled by its margin), settle most targets without a program of their own: a
        // feasible point where a target lies beyond its margin proves that side protected.
        let weights = open.flatMap { target in target.terms.map { ($0.key, $0.value / target.margin) } }
        let witnesses = [system.point(minimising: weights), system.point(minimising: weights.map { ($0.0, -$0.1) })]
            .compactMap { $0 }
        for target in open {
            let natural = system.naturalRange(of: target)
            let low = max(natural.lowerBound, target.truth - target.margin)
            let high = min(natural.upperBound, target.truth + target.margin)
            let tolerance = 1e-7 * max(1, abs(target.truth))
            let values = witnesses.map { system.value(of: target, at: $0) }
            var lowerShown = values.contains { $0 <= low + tolerance }
            var upperShown = values.contains { $0 >= high - tolerance }
            if !lowerShown || !upperShown {
                let bounds = system.range(of: target)
                lowerShown = lowerShown || (bounds.map { $0.lowerBound <= low + tolerance } ?? false)
                upperShown = upperShown || (bounds.map { $0.upperBound >= high - tolerance } ?? false)
            }
            guard lowerShown, upperShown else { return target }
            verified.insert(target.id)
        }
        return nil
    }

    /// A visible cell to withhold so that `anchor` is no longer pinned: the anchor itself
    /// when this release shows it, else the smallest cell that shares a relation with it,
    /// else the smallest that contains part of it.
    private func complement(for anchor: Int, in protection: PeriodProtection) -> Int? {
        let visible = { (cell: Int) in !protection.withheld.contains(cell) && !protection.isEmpty(cell) }
        let size = { (cell: Int) in abs(protection.quantities[0][cell].total) }
        if visible(anchor) { return anchor }
        if let cell = protection.neighbors(of: anchor).filter(visible).min(by: { (size($0), $0) < (size($1), $1) }) {
            return cell
        }
        let overlapping = Set(members[anchor].flatMap { gridCellsOf[$0] }).filter(visible)
        return overlapping.min { (size($0), $0) < (size($1), $1) }
    }

    /// One reader's linear system for one quantity.
    struct System {
        var program: LinearProgram
        var targets: [Target] = []
        /// Per unknown: its bounds, and its value as `offset` + the program's `variables`
        /// (which start at 0; two of them when the unknown is unbounded on both sides).
        private var unknowns: [Unknown] = []

        private struct Unknown {
            var lower: Double
            var upper: Double
            var offset: Double
            var variables: [(Int, Double)]
        }

        init(audit: ReaderAudit, reader: String?, quantity: Int, current: Set<Int>) {
            let versions = audit.parts.count
            var upperBounds: [Double] = []
            var unknowns: [Unknown] = []
            let range = audit.rules.isRatio ? 0...Double.infinity : audit.rules.range
            func unknown(measurements: Int) -> Int {
                // A declared range's "no bound" is the largest finite number: infinite here.
                let lower = range.lowerBound <= -1e300 ? -Double.infinity : range.lowerBound * Double(measurements)
                let upper = range.upperBound >= 1e300 ? Double.infinity : range.upperBound * Double(measurements)
                let variables: [(Int, Double)]
                let offset: Double
                if lower.isFinite {
                    (offset, variables) = (lower, [(upperBounds.count, 1)])
                    upperBounds.append(upper - lower)
                } else if upper.isFinite {
                    (offset, variables) = (upper, [(upperBounds.count, -1)])
                    upperBounds.append(.infinity)
                } else {
                    (offset, variables) = (0, [(upperBounds.count, 1), (upperBounds.count + 1, -1)])
                    upperBounds += [.infinity, .infinity]
                }
                unknowns.append(Unknown(lower: lower, upper: upper, offset: offset, variables: variables))
                return unknowns.count - 1
            }
            // Per measurement cell and release: the unknowns of others' parts, with their true
            // values, and what the reader itself contributes.
            var terms = Array(
                repeating: Array(repeating: [(unknown: Int, truth: Double)](), count: versions),
                count: audit.measurementCells.count)
            var own = Array(repeating: Array(repeating: 0.0, count: versions), count: audit.measurementCells.count)
            var peerTargets: [(unknown: Int, truth: Double, cell: Int, id: String)] = []
            var changedTargets: [(terms: [Int: Double], truth: Double, cell: Int, id: String)] = []
            for cell in audit.measurementCells.indices {
                let partners = Set(audit.parts.flatMap { $0[cell].keys })
                var stable: (measurements: Int, truths: [Double], partners: [String]) = (
                    0, Array(repeating: 0, count: versions), []
                )
                for partner in partners.sorted() {
                    let history = audit.parts.map { $0[cell][partner] }
                    if partner == reader {
                        for (version, part) in history.enumerated() { own[cell][version] = part?.values[quantity] ?? 0 }
                        continue
                    }
                    if let first = history[0], history.allSatisfy({ $0 == first }) {
                        stable.measurements += first.measurements
                        for version in 0..<versions { stable.truths[version] += first.values[quantity] }
                        stable.partners.append(partner)
                        continue
                    }
                    var before: (unknown: Int, truth: Double)?
                    for (version, part) in history.enumerated() {
                        guard let part else { before = nil; continue }
                        let number = unknown(measurements: part.measurements)
                        terms[cell][version].append((number, part.values[quantity]))
                        changedTargets.append(([number: 1], part.values[quantity], cell, "\(partner)@\(version)"))
                        if let before {
                            // What the correction changed: two releases' difference must not give it away.
                            changedTargets.append(
                                (
                                    [number: 1, before.unknown: -1], part.values[quantity] - before.truth, cell,
                                    "\(partner)@\(version)-"
                                ))
                        }
                        before = (number, part.values[quantity])
                    }
                }
                if !stable.partners.isEmpty {
                    let number = unknown(measurements: stable.measurements)
                    for version in 0..<versions { terms[cell][version].append((number, stable.truths[version])) }
                    if reader != nil, stable.partners.count == 1 {
                        peerTargets.append((number, stable.truths[0], cell, "\(stable.partners[0])"))
                    }
                }
            }
            program = LinearProgram(variableCount: upperBounds.count, upperBounds: upperBounds)
            self.unknowns = unknowns
            let readerName = reader ?? "outsider"
            // Per grid cell, what the latest release that showed it showed (over others' parts).
            var published: [Int: (expression: [Int: Double], truth: Double)] = [:]
            for version in 0..<versions {
                let withheld = version == versions - 1 ? current : audit.earlierWithheld[version]
                var publishedNow: [Int: (expression: [Int: Double], truth: Double)] = [:]
                defer { published.merge(publishedNow) { $1 } }
                for gridCell in 0..<audit.grid.cellCount where !audit.members[gridCell].isEmpty {
                    var expression: [Int: Double] = [:]
                    var truth = 0.0
                    var known = 0.0
                    var hasData = false
                    for cell in audit.members[gridCell] {
                        for term in terms[cell][version] {
                            expression[term.unknown, default: 0] += 1
                            truth += term.truth
                        }
                        known += own[cell][version]
                        hasData =
                            hasData || !terms[cell][version].isEmpty || audit.parts[version][cell][reader ?? ""] != nil
                    }
                    guard hasData else { continue }
                    if withheld.contains(gridCell), let before = published[gridCell] {
                        // Shown before: what the others changed in it since is the secret.
                        let change = expression.merging(before.expression.mapValues { -$0 }, uniquingKeysWith: +).filter
                        { $0.value != 0 }
                        guard !change.isEmpty else { continue }
                        targets.append(
                            Target(
                                id: "\(readerName)/\(quantity)/change of cell \(gridCell)@\(version)", terms: change,
                                truth: truth - before.truth,
                                margin: audit.policy.margin(truth - before.truth), anchor: gridCell))
                        continue
                    }
                    guard !expression.isEmpty else {
                        if !withheld.contains(gridCell) { publishedNow[gridCell] = (expression, truth) }
                        continue
                    }
                    if withheld.contains(gridCell) {
                        let quantityTotal = truth + known
                        targets.append(
                            Target(
                                id: "\(readerName)/\(quantity)/cell \(gridCell)@\(version)", terms: expression,
                                truth: truth,
                                margin: audit.policy.margin(quantityTotal), anchor: gridCell))
                    } else {
                        let (lp, constant) = linear(expression)
                        program.addEquality(lp, equals: truth - constant)
                        publishedNow[gridCell] = (expression, truth)
                    }
                }
            }
            // A peer's figure matters where some release withholds its measurement cell;
            // elsewhere the cell is published and the p% rule protected it.
            for peer in peerTargets {
                let finest = audit.gridCellsOf[peer.cell][0]
                let withheldSomewhere = (0..<versions).contains { version in
                    (version == versions - 1 ? current : audit.earlierWithheld[version]).contains(finest)
                }
                guard withheldSomewhere else { continue }
                targets.append(
                    Target(
                        id: "\(readerName)/\(quantity)/figure \(peer.id) in \(peer.cell)", terms: [peer.unknown: 1],
                        truth: peer.truth, margin: audit.policy.margin(peer.truth), anchor: finest))
            }
            for changed in changedTargets {
                targets.append(
                    Target(
                        id: "\(readerName)/\(quantity)/changed \(changed.id) in \(changed.cell)", terms: changed.terms,
                        truth: changed.truth, margin: audit.policy.margin(changed.truth),
                        anchor: audit.gridCellsOf[changed.cell][0]))
            }
        }

        /// An expression over unknowns as the program's terms and the constant its lower bounds add.
        private func linear(_ expression: [Int: Double]) -> ([(Int, Double)], Double) {
            var terms: [(Int, Double)] = []
            var constant = 0.0
            for (unknown, coefficient) in expression {
                constant += coefficient * unknowns[unknown].offset
                for (variable, sign) in unknowns[unknown].variables { terms.append((variable, coefficient * sign)) }
            }
            return (terms, constant)
        }

        /// The target's range from the unknowns' bounds alone.
        func naturalRange(of target: Target) -> ClosedRange<Double> {
            var low = 0.0
            var high = 0.0
            for (unknown, coefficient) in target.terms {
                let (lower, upper) = (unknowns[unknown].lower, unknowns[unknown].upper)
                low += coefficient > 0 ? coefficient * lower : coefficient * upper
                high += coefficient > 0 ? coefficient * upper : coefficient * lower
            }
            return low...high
        }

        /// The target's range under the reader's equations (nil when they admit no value: a
        /// bug, treated as narrowed).
        func range(of target: Target) -> ClosedRange<Double>? {
            let (terms, constant) = linear(target.terms)
            return program.range(of: terms).map { ($0.lowerBound + constant)...($0.upperBound + constant) }
        }

        /// A feasible point of the program minimising a weighted sum of unknowns.
        func point(minimising weights: [(Int, Double)]) -> [Double]? {
            var terms: [Int: Double] = [:]
            for (unknown, weight) in weights { terms[unknown, default: 0] += weight }
            return program.point(minimising: linear(terms).0)
        }

        /// The target's value at a point of the program.
        func value(of target: Target, at point: [Double]) -> Double {
            let (terms, constant) = linear(target.terms)
            return terms.reduce(constant) { $0 + $1.1 * point[$1.0] }
        }
    }
}
