import Foundation

/// A linear program over bounded variables: minimise or maximise c·x subject to A x = b
/// (equalities, given sparsely) and 0 ≤ x_j ≤ upper_j (upper may be +infinity).
///
/// Solved by a dense primal simplex on the tableau B⁻¹A, with upper bounds kept out of the
/// rows: a nonbasic variable sits at either bound and may flip between them without a pivot.
/// Phase I (one artificial variable per row) runs once per program, on the first question,
/// and every objective then starts from the feasible basis it found. Entering variables are
/// chosen by Dantzig's rule, and by Bland's rule during a long run of degenerate pivots, so
/// the method cannot cycle.
public struct LinearProgram: Sendable {
    public let variableCount: Int
    public let upperBounds: [Double]
    private var equalities: [Equality] = []
    /// Phase I's result, shared by copies until one of them adds an equality.
    private var start = StartCache()

    public init(variableCount: Int, upperBounds: [Double]) {
        precondition(upperBounds.count == variableCount, "one upper bound per variable")
        precondition(upperBounds.allSatisfy { $0 >= 0 }, "upper bounds must be ≥ 0 (the lower bound is 0)")
        self.variableCount = variableCount
        self.upperBounds = upperBounds
    }

    /// Adds the equality Σ coefficients[j]·x_j = rhs (terms: (variable index, coefficient));
    /// duplicate indices add up.
    public mutating func addEquality(_ terms: [(Int, Double)], equals rhs: Double) {
        precondition(
            terms.allSatisfy { (0..<variableCount).contains($0.0) && $0.1.isFinite }, "terms must name variables")
        precondition(rhs.isFinite)
        equalities.append(Equality(terms: terms.map { Term(variable: $0.0, coefficient: $0.1) }, rhs: rhs))
        start = StartCache()
    }

    /// What the smallest or largest value of an objective is.
    public enum Outcome: Equatable, Sendable {
        case optimal(Double)
        case infeasible
        case unbounded
    }

    /// The smallest value of Σ objective[j]·x_j over the feasible set (terms as in
    /// ``addEquality(_:equals:)``).
    public func minimum(of objective: [(Int, Double)]) -> Outcome {
        guard var tableau = start.tableau(orMake: phaseOne) else { return .infeasible }
        var costs = [Double](repeating: 0, count: variableCount)
        for (variable, coefficient) in objective {
            precondition((0..<variableCount).contains(variable), "objective terms must name variables")
            costs[variable] += coefficient
        }
        switch tableau.minimise(costs: costs) {
        case .unbounded: return .unbounded
        // A stall (numerical trouble only) still leaves a feasible point: its value is no better
        // than the optimum, so a range comes out too narrow rather than too wide.
        case .optimal, .stalled: return .optimal(tableau.objective(costs))
        }
    }

    /// A feasible point where the simplex, minimising the objective, stopped: at its minimum,
    /// or where it found the objective unbounded below; nil when nothing is feasible. One
    /// point shows at once, for every expression, a value that expression can take.
    public func point(minimising objective: [(Int, Double)]) -> [Double]? {
        guard var tableau = start.tableau(orMake: phaseOne) else { return nil }
        var costs = [Double](repeating: 0, count: variableCount)
        for (variable, coefficient) in objective { costs[variable] += coefficient }
        _ = tableau.minimise(costs: costs)
        return tableau.solution
    }

    /// The largest value of Σ objective[j]·x_j over the feasible set.
    public func maximum(of objective: [(Int, Double)]) -> Outcome {
        switch minimum(of: objective.map { ($0.0, -$0.1) }) {
        case .optimal(let value): return .optimal(value == 0 ? 0 : -value)
        case let other: return other
        }
    }

    /// A feasible basis from phase I, with the rows found redundant dropped; nil if there is none.
    private func phaseOne() -> Tableau? {
        let rowCount = equalities.count, columnCount = variableCount
        var entries = [Double](repeating: 0, count: rowCount * columnCount)
        var rhs = [Double](repeating: 0, count: rowCount)
        for (row, equality) in equalities.enumerated() {
            let offset = row * columnCount
            for term in equality.terms { entries[offset + term.variable] += term.coefficient }
            // Rows scaled to a largest coefficient of 1 make the absolute tolerances meaningful;
            // a negative right-hand side flips the row so that its artificial variable starts ≥ 0.
            var scale = entries[offset..<offset + columnCount].reduce(0) { max($0, abs($1)) }
            if scale == 0 { scale = 1 }
            if equality.rhs < 0 { scale = -scale }
            for column in offset..<offset + columnCount { entries[column] /= scale }
            rhs[row] = equality.rhs / scale
        }
        var tableau = Tableau(entries: entries, values: rhs, upper: upperBounds)
        _ = tableau.minimise(costs: [Double](repeating: 0, count: columnCount), artificialCost: 1)
        let tolerance = Tableau.tolerance * (1 + (rhs.max() ?? 0))
        return tableau.removingArtificials(feasibilityTolerance: tolerance)
    }

    private struct Term: Sendable {
        var variable: Int
        var coefficient: Double
    }

    private struct Equality: Sendable {
        var terms: [Term]
        var rhs: Double
    }

    /// Computes phase I at most once, whichever thread asks first.
    private final class StartCache: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Tableau??

        func tableau(orMake make: () -> Tableau?) -> Tableau? {
            lock.withLock {
                if let result { return result }
                let made = make()
                result = .some(made)
                return made
            }
        }
    }
}

extension LinearProgram {
    /// The interval [min, max] of the objective over the feasible set; nil when infeasible.
    /// Unbounded sides are ±infinity.
    public func range(of objective: [(Int, Double)]) -> ClosedRange<Double>? {
        let lower: Double, upper: Double
        switch minimum(of: objective) {
        case .infeasible: return nil
        case .unbounded: lower = -.infinity
        case .optimal(let value): lower = value
        }
        switch maximum(of: objective) {
        case .infeasible: return nil
        case .unbounded: upper = .infinity
        case .optimal(let value): upper = value
        }
        // Rounding may put the two a hair apart the wrong way round when the objective is fixed.
        return lower...max(lower, upper)
    }
}

// MARK: - The simplex

extension LinearProgram {
    /// The state of the bounded-variable primal simplex: the tableau B⁻¹A over the structural
    /// variables, the values of the basic variables, and the bound each nonbasic variable is at.
    /// Artificial variables have no columns: one is only ever basic (a unit column) or gone.
    struct Tableau: Sendable {
        /// Pivots, ratios and reduced costs smaller than this count as zero (rows are scaled to 1).
        static let tolerance = 1e-9

        let columnCount: Int
        private(set) var rowCount: Int
        /// B⁻¹A, row-major.
        private(set) var entries: [Double]
        /// The value of each row's basic variable.
        private(set) var values: [Double]
        /// Each row's basic variable: a column, or `columnCount` + the row for its artificial variable.
        private(set) var basis: [Int]
        /// Per column: the row it is basic in, or -1.
        private var basicRow: [Int]
        /// Per column: whether the nonbasic variable sits at its upper bound rather than at 0.
        private var atUpper: [Bool]
        let upper: [Double]

        /// A basis with every nonbasic variable at 0: by default the artificial one, every row's
        /// artificial variable basic at the row's right-hand side. `entries` must be B⁻¹A for
        /// that basis and `values` (B⁻¹b) must be within bounds.
        init(entries: [Double], values: [Double], upper: [Double], basis: [Int]? = nil) {
            columnCount = upper.count
            rowCount = values.count
            precondition(entries.count == rowCount * columnCount && values.allSatisfy { $0 >= 0 })
            self.entries = entries
            self.values = values
            self.upper = upper
            self.basis = basis ?? (0..<rowCount).map { upper.count + $0 }
            precondition(self.basis.count == rowCount)
            basicRow = Array(repeating: -1, count: upper.count)
            for (row, column) in self.basis.enumerated() where column < columnCount { basicRow[column] = row }
            atUpper = Array(repeating: false, count: upper.count)
        }

        enum Termination: Equatable {
            case optimal, unbounded
            /// The iteration limit, which only numerical trouble can reach.
            case stalled
        }

        /// The value of each structural variable.
        var solution: [Double] {
            (0..<columnCount).map { column in
                basicRow[column] >= 0 ? values[basicRow[column]] : atUpper[column] ? upper[column] : 0
            }
        }

        func objective(_ costs: [Double]) -> Double {
            zip(costs, solution).reduce(0) { $1.0 == 0 ? $0 : $0 + $1.0 * $1.1 }
        }

        /// Runs the simplex from the current basis to a minimum of costs·x (plus `artificialCost`
        /// per unit of every artificial variable). After `degenerateRunBeforeBland` degenerate
        /// pivots in a row, entering and leaving variables are picked by Bland's rule until a
        /// pivot makes progress.
        mutating func minimise(
            costs: [Double], artificialCost: Double = 0, degenerateRunBeforeBland: Int = 50
        ) -> Termination {
            let n = columnCount, m = rowCount
            let tolerance = Self.tolerance
            let dualTolerance = tolerance * max(1, artificialCost, costs.reduce(0) { max($0, abs($1)) })
            // Reduced costs d_j = c_j − c_B·(B⁻¹A)_j.
            var reduced = costs
            for row in 0..<m {
                let basicCost = basis[row] < n ? costs[basis[row]] : artificialCost
                guard basicCost != 0 else { continue }
                entries.withUnsafeBufferPointer { entries in
                    reduced.withUnsafeMutableBufferPointer { reduced in
                        var column = 0, offset = row * n
                        while column < n {
                            reduced[column] -= basicCost * entries[offset]
                            column += 1
                            offset += 1
                        }
                    }
                }
            }
            for column in 0..<n where basicRow[column] >= 0 { reduced[column] = 0 }

            var degenerateRun = 0
            let iterationLimit = 50 * (m + n) + 1000
            for _ in 0..<iterationLimit {
                let bland = degenerateRun >= degenerateRunBeforeBland
                // Pricing: a variable at 0 that would lower the cost by rising, or one at its upper
                // bound that would by falling. Fixed variables (upper 0) never move.
                var entering = -1, best = 0.0
                for column in 0..<n where basicRow[column] < 0 && upper[column] > 0 {
                    let d = reduced[column]
                    guard atUpper[column] ? d > dualTolerance : d < -dualTolerance else { continue }
                    if bland { entering = column; break }
                    if abs(d) > best { entering = column; best = abs(d) }
                }
                guard entering >= 0 else { return .optimal }

                // Ratio test: the variable moves by t in `direction`; basic variable i changes by
                // −direction·t·α_i and must stay within its bounds (an artificial one: ≥ 0).
                let direction: Double = atUpper[entering] ? -1 : 1
                var leaving = -1, step = upper[entering], leavingAlpha = 0.0
                for row in 0..<m {
                    let alpha = direction * entries[row * n + entering]
                    let limit: Double
                    if alpha > tolerance {
                        limit = max(0, values[row]) / alpha
                    } else if alpha < -tolerance, basis[row] < n, upper[basis[row]].isFinite {
                        limit = max(0, upper[basis[row]] - values[row]) / -alpha
                    } else {
                        continue
                    }
                    // Near-ties go to the bound flip if it is one of them, as that needs no pivot, and
                    // otherwise to the smaller variable, as Bland's rule needs.
                    let tie = step.isFinite && abs(limit - step) <= tolerance * max(1, step)
                    if tie ? leaving >= 0 && basis[row] < basis[leaving] : limit < step {
                        leaving = row
                        step = limit
                        leavingAlpha = alpha
                    }
                }
                guard step.isFinite else { return .unbounded }

                degenerateRun = step <= tolerance ? degenerateRun + 1 : 0
                let movement = direction * step
                values.withUnsafeMutableBufferPointer { values in
                    entries.withUnsafeBufferPointer { entries in
                        var row = 0, offset = entering
                        while row < m {
                            values[row] -= movement * entries[offset]
                            row += 1
                            offset += n
                        }
                    }
                }
                if leaving < 0 {
                    // The entering variable reaches its other bound first: no change of basis.
                    atUpper[entering].toggle()
                    continue
                }
                let left = basis[leaving]
                if left < n {
                    basicRow[left] = -1
                    atUpper[left] = leavingAlpha < 0
                }
                values[leaving] = atUpper[entering] ? upper[entering] - step : step
                pivot(row: leaving, column: entering, reducedCosts: &reduced)
            }
            return .stalled
        }

        /// Makes the column's variable basic in the row: row operations bring the column to the
        /// row's unit vector, in the reduced costs too.
        private mutating func pivot(row pivotRow: Int, column: Int, reducedCosts: inout [Double]) {
            let n = columnCount, m = rowCount
            basis[pivotRow] = column
            basicRow[column] = pivotRow
            atUpper[column] = false
            entries.withUnsafeMutableBufferPointer { entries in
                reducedCosts.withUnsafeMutableBufferPointer { reduced in
                    let source = entries.baseAddress! + pivotRow * n
                    let inverse = 1 / source[column]
                    // Only the pivot row's nonzero columns change anywhere.
                    var nonzero = [Int]()
                    nonzero.reserveCapacity(n)
                    var k = 0
                    while k < n {
                        if source[k] != 0 {
                            source[k] *= inverse
                            nonzero.append(k)
                        }
                        k += 1
                    }
                    source[column] = 1
                    nonzero.withUnsafeBufferPointer { nonzero in
                        func eliminate(_ target: UnsafeMutablePointer<Double>) {
                            let factor = target[column]
                            guard factor != 0 else { return }
                            var index = 0
                            while index < nonzero.count {
                                let k = nonzero[index]
                                target[k] -= factor * source[k]
                                index += 1
                            }
                            target[column] = 0
                        }
                        var row = 0
                        while row < m {
                            if row != pivotRow { eliminate(entries.baseAddress! + row * n) }
                            row += 1
                        }
                        eliminate(reduced.baseAddress!)
                    }
                }
            }
        }

        /// After phase I: nil if an artificial variable is still above `feasibilityTolerance`;
        /// otherwise the basis with every artificial variable pivoted out (at zero, without moving
        /// anything) or, where no structural variable can replace it, its row dropped as redundant.
        func removingArtificials(feasibilityTolerance: Double) -> Tableau? {
            var tableau = self
            var redundant = [Int]()
            var unused = [Double](repeating: 0, count: columnCount)
            for row in 0..<rowCount where tableau.basis[row] >= columnCount {
                guard tableau.values[row] <= feasibilityTolerance else { return nil }
                var replacement = -1, largest = Self.tolerance
                for column in 0..<columnCount where tableau.basicRow[column] < 0 && upper[column] > 0 {
                    let entry = abs(tableau.entries[row * columnCount + column])
                    if entry > largest { replacement = column; largest = entry }
                }
                guard replacement >= 0 else {
                    redundant.append(row)
                    continue
                }
                tableau.values[row] = tableau.atUpper[replacement] ? upper[replacement] : 0
                tableau.pivot(row: row, column: replacement, reducedCosts: &unused)
            }
            if !redundant.isEmpty { tableau.dropRows(Set(redundant)) }
            return tableau
        }

        private mutating func dropRows(_ dropped: Set<Int>) {
            let kept = (0..<rowCount).filter { !dropped.contains($0) }
            entries = kept.flatMap { entries[$0 * columnCount..<($0 + 1) * columnCount] }
            values = kept.map { values[$0] }
            basis = kept.map { basis[$0] }
            rowCount = kept.count
            basicRow = Array(repeating: -1, count: columnCount)
            for (row, column) in basis.enumerated() { basicRow[column] = row }
        }
    }
}
