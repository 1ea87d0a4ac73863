import Foundation
import Testing

@testable import Aggregation

@Suite("Linear programs over bounded variables")
struct LinearProgramTests {
    typealias Outcome = LinearProgram.Outcome

    static func program(_ variableCount: Int, upper: [Double]? = nil, _ rows: [([(Int, Double)], Double)])
        -> LinearProgram
    {
        var program = LinearProgram(
            variableCount: variableCount, upperBounds: upper ?? Array(repeating: .infinity, count: variableCount))
        for (terms, rhs) in rows { program.addEquality(terms, equals: rhs) }
        return program
    }

    static func isClose(_ outcome: Outcome, _ expected: Double, tolerance: Double = 1e-9) -> Bool {
        guard case .optimal(let value) = outcome else { return false }
        return abs(value - expected) <= tolerance * max(1, abs(expected))
    }

    static func isClose(_ range: ClosedRange<Double>?, _ expected: ClosedRange<Double>, tolerance: Double = 1e-9)
        -> Bool
    {
        guard let range else { return false }
        func close(_ a: Double, _ b: Double) -> Bool { a == b || abs(a - b) <= tolerance * max(1, abs(b)) }
        return close(range.lowerBound, expected.lowerBound) && close(range.upperBound, expected.upperBound)
    }

    // MARK: Textbook problems

    @Test func wyndorGlassWithSlackVariables() {
        // max 3x + 5y  s.t.  x ≤ 4, 2y ≤ 12, 3x + 2y ≤ 18, as equalities with slacks s1, s2, s3
        // (variables x, y, s1, s2, s3 = 0…4). The vertices of the feasible region are (0,0),
        // (4,0), (4,3), (2,6), (0,6): 3x + 5y is largest at (2,6), 6 + 30 = 36, and 0 at the origin.
        let program = Self.program(
            5,
            [
                ([(0, 1), (2, 1)], 4),
                ([(1, 2), (3, 1)], 12),
                ([(0, 3), (1, 2), (4, 1)], 18),
            ])
        #expect(Self.isClose(program.maximum(of: [(0, 3), (1, 5)]), 36))
        #expect(Self.isClose(program.minimum(of: [(0, 3), (1, 5)]), 0))
        // y alone: at most 6 (the second row), x alone: at most 4.
        #expect(Self.isClose(program.range(of: [(1, 1)]), 0...6))
        #expect(Self.isClose(program.range(of: [(0, 1)]), 0...4))
        // s3 = 18 − 3x − 2y is smallest at (2,6) or (4,3): 0, and largest at the origin: 18.
        #expect(Self.isClose(program.range(of: [(4, 1)]), 0...18))
    }

    @Test func wyndorGlassWithUpperBoundsInsteadOfRows() {
        // The same problem with x ≤ 4 and y ≤ 6 as bounds: only 3x + 2y + s = 18 is a row, so
        // the optimum (2,6) has y at its upper bound, nonbasic.
        let program = Self.program(3, upper: [4, 6, .infinity], [([(0, 3), (1, 2), (2, 1)], 18)])
        #expect(Self.isClose(program.maximum(of: [(0, 3), (1, 5)]), 36))
        // 3x + y: (4,3) gives 15, (2,6) gives 12, (4,0) gives 12 — so 15.
        #expect(Self.isClose(program.maximum(of: [(0, 3), (1, 1)]), 15))
    }

    @Test func aCoveringProblem() {
        // min 2x + 3y  s.t.  x + y ≥ 4, x + 3y ≥ 6 (surplus variables 2 and 3). The corners
        // are (6,0) → 12, (3,1) → 9 where both rows bind, and (0,4) → 12: the minimum is 9.
        // Nothing stops x growing, so the maximum is unbounded.
        let program = Self.program(
            4,
            [
                ([(0, 1), (1, 1), (2, -1)], 4),
                ([(0, 1), (1, 3), (3, -1)], 6),
            ])
        #expect(Self.isClose(program.minimum(of: [(0, 2), (1, 3)]), 9))
        #expect(program.maximum(of: [(0, 2), (1, 3)]) == .unbounded)
        #expect(Self.isClose(program.range(of: [(0, 2), (1, 3)]), 9...Double.infinity))
    }

    @Test func negativeRightHandSidesAndCoefficients() {
        // −x − y = −5 with x ≤ 2: y = 5 − x ∈ [3, 5], and x − y ∈ [−5, −1].
        let program = Self.program(2, upper: [2, .infinity], [([(0, -1), (1, -1)], -5)])
        #expect(Self.isClose(program.range(of: [(1, 1)]), 3...5))
        #expect(Self.isClose(program.range(of: [(0, 1), (1, -1)]), -5 ... -1))
    }

    // MARK: Infeasible and unbounded

    @Test func infeasibleSystems() {
        // x + y cannot be both 1 and 2.
        let contradictory = Self.program(2, [([(0, 1), (1, 1)], 1), ([(0, 1), (1, 1)], 2)])
        #expect(contradictory.minimum(of: [(0, 1)]) == .infeasible)
        #expect(contradictory.maximum(of: [(0, 1)]) == .infeasible)
        #expect(contradictory.range(of: [(0, 1)]) == nil)
        // Nonnegative variables cannot sum to −1.
        #expect(Self.program(2, [([(0, 1), (1, 1)], -1)]).minimum(of: []) == .infeasible)
        // x = 2 beyond its upper bound of 1.
        #expect(Self.program(1, upper: [1], [([(0, 1)], 2)]).minimum(of: [(0, 1)]) == .infeasible)
        // 0 = 3.
        #expect(Self.program(1, [([], 3)]).maximum(of: [(0, 1)]) == .infeasible)
        // x + y = 3, x − y = 0 puts x at 1.5, above its bound 1.
        #expect(
            Self.program(2, upper: [1, 5], [([(0, 1), (1, 1)], 3), ([(0, 1), (1, -1)], 0)]).range(of: []) == nil)
    }

    @Test func unboundedDirections() {
        // x − y = 1: x = 1 + y grows without end; its least value is 1 (y = 0).
        let program = Self.program(2, [([(0, 1), (1, -1)], 1)])
        #expect(program.maximum(of: [(0, 1)]) == .unbounded)
        #expect(Self.isClose(program.minimum(of: [(0, 1)]), 1))
        // x − y is fixed at 1 along the ray.
        #expect(Self.isClose(program.range(of: [(0, 1), (1, -1)]), 1...1))
        // −x falls without end.
        #expect(program.minimum(of: [(0, -1)]) == .unbounded)
        #expect(program.range(of: [(1, -2)]) == -Double.infinity...0)
        // Once y has an upper bound, so has x.
        let bounded = Self.program(2, upper: [.infinity, 4], [([(0, 1), (1, -1)], 1)])
        #expect(Self.isClose(bounded.range(of: [(0, 1)]), 1...5))
    }

    // MARK: Redundancy, duplicates, degeneracy

    @Test func redundantAndDuplicateEqualities() {
        // x + y = 2 three times over (once doubled, once as x + x − x + y), an empty 0 = 0, and
        // z = x + 1 (z − x = 1): x ∈ [0,2], y = 2 − x, z ∈ [1,3].
        let program = Self.program(
            3,
            [
                ([(0, 1), (1, 1)], 2),
                ([(0, 2), (1, 2)], 4),
                ([(0, 1), (0, 1), (0, -1), (1, 1)], 2),
                ([], 0),
                ([(2, 1), (0, -1)], 1),
                ([(0, 1), (1, 1)], 2),
            ])
        #expect(Self.isClose(program.range(of: [(0, 1)]), 0...2))
        #expect(Self.isClose(program.range(of: [(2, 1)]), 1...3))
        // Duplicate objective terms add up: 2x + y − x = x + y = 2 everywhere.
        #expect(Self.isClose(program.range(of: [(0, 2), (1, 1), (0, -1)]), 2...2))
        // z − y = (x + 1) − (2 − x) = 2x − 1 ∈ [−1, 3].
        #expect(Self.isClose(program.range(of: [(2, 1), (1, -1)]), -1...3))
    }

    @Test func dependentRowsThatAreNotCopies() {
        // Rows 1 + 2 = row 3: a + b = 3, c + d = 4, a + b + c + d = 7; plus a − c = 0.
        // a = c ∈ [0, 3]; b = 3 − a; d = 4 − a ≥ 1.
        let program = Self.program(
            4,
            [
                ([(0, 1), (1, 1)], 3), ([(2, 1), (3, 1)], 4), ([(0, 1), (1, 1), (2, 1), (3, 1)], 7),
                ([(0, 1), (2, -1)], 0),
            ])
        #expect(Self.isClose(program.range(of: [(3, 1)]), 1...4))
        #expect(Self.isClose(program.range(of: [(0, 1), (2, 1)]), 0...6))
    }

    /// Beale's example (as in Chvátal, *Linear Programming*, ch. 3), with slacks x1, x2, x3:
    ///   min −3/4 x4 + 150 x5 − 1/50 x6 + 6 x7
    ///   1/4 x4 − 60 x5 − 1/25 x6 + 9 x7 + x1 = 0
    ///   1/2 x4 − 90 x5 − 1/50 x6 + 3 x7 + x2 = 0
    ///                          x6        + x3 = 1
    /// From the slack basis, Dantzig's rule (largest reduced cost) with ties in the ratio test
    /// broken by the smaller subscript returns to the start after six degenerate pivots. The optimum:
    /// x6 = 1 (x3 = 0) leaves row 1 as 1/4 x4 + x1 = 1/25 and row 2 as 1/2 x4 + x2 = 1/50, so
    /// x4 = 1/25 at best (x2 = 0, x1 = 3/100), for −3/100 − 1/50 = −1/20.
    static let beale: (rows: [([(Int, Double)], Double)], objective: [(Int, Double)]) = (
        [
            ([(3, 0.25), (4, -60), (5, -1.0 / 25), (6, 9), (0, 1)], 0),
            ([(3, 0.5), (4, -90), (5, -1.0 / 50), (6, 3), (1, 1)], 0),
            ([(5, 1), (2, 1)], 1),
        ],
        [(3, -0.75), (4, 150), (5, -1.0 / 50), (6, 6)]
    )

    @Test func bealesCyclingExampleFromTheSlackBasis() {
        var entries = [Double](repeating: 0, count: 3 * 7)
        for (row, equality) in Self.beale.rows.enumerated() {
            for (column, coefficient) in equality.0 { entries[row * 7 + column] = coefficient }
        }
        let costs = (0..<7).map { column in Self.beale.objective.first { $0.0 == column }?.1 ?? 0 }
        let start = LinearProgram.Tableau(
            entries: entries, values: [0, 0, 1], upper: Array(repeating: .infinity, count: 7), basis: [0, 1, 2])

        var dantzigOnly = start
        #expect(
            dantzigOnly.minimise(costs: costs, degenerateRunBeforeBland: .max) == .stalled,
            "Dantzig's rule alone cycles")
        for threshold in [0, 1, 5, 50] {
            var tableau = start
            #expect(tableau.minimise(costs: costs, degenerateRunBeforeBland: threshold) == .optimal)
            #expect(abs(tableau.objective(costs) + 0.05) < 1e-12)
            let x = tableau.solution
            #expect(abs(x[3] - 0.04) < 1e-12 && abs(x[5] - 1) < 1e-12 && abs(x[0] - 0.03) < 1e-12)
        }
    }

    @Test func bealesExampleThroughThePublicInterface() {
        let program = Self.program(7, Self.beale.rows)
        #expect(Self.isClose(program.minimum(of: Self.beale.objective), -0.05))
        // The feasible set is unbounded (x5 and x7 can grow together), but x6 ∈ [0, 1].
        #expect(Self.isClose(program.range(of: [(5, 1)]), 0...1))
    }

    @Test func aHighlyDegenerateVertex() {
        // Many constraints through the origin: x1 − x2 + s1 = 0, x2 − x3 + s2 = 0, x3 − x1 + s3 = 0
        // … force x1 = x2 = x3 (their sum with slacks: s1 + s2 + s3 = 0), and x1 + x2 + x3 + s4 = 3.
        // So x1 ≤ 1 and the maximum of x1 + 2x2 + 3x3 is 6.
        let program = Self.program(
            7,
            [
                ([(0, 1), (1, -1), (3, 1)], 0),
                ([(1, 1), (2, -1), (4, 1)], 0),
                ([(2, 1), (0, -1), (5, 1)], 0),
                ([(0, 1), (1, 1), (2, 1), (6, 1)], 3),
            ])
        #expect(Self.isClose(program.maximum(of: [(0, 1), (1, 2), (2, 3)]), 6))
        #expect(Self.isClose(program.range(of: [(3, 1), (4, 1), (5, 1)]), 0...0))
    }

    // MARK: Bounds and loose variables

    @Test func upperBoundsBind() {
        // x + y + z = 4 with x ≤ 1, y ≤ 2, z ≤ 3. max 3x + 2y + z fills x, then y: (1, 2, 1) → 8.
        // min fills z, then y: (0, 1, 3) → 5.
        let program = Self.program(3, upper: [1, 2, 3], [([(0, 1), (1, 1), (2, 1)], 4)])
        #expect(Self.isClose(program.range(of: [(0, 3), (1, 2), (2, 1)]), 5...8))
        // y ∈ [0, 2]: x + z = 4 − y needs ≤ 4, so y = 0 is feasible (x = 1, z = 3).
        #expect(Self.isClose(program.range(of: [(1, 1)]), 0...2))
        // A variable fixed by an upper bound of 0 stays there.
        let fixed = Self.program(3, upper: [0, 2, 3], [([(0, 1), (1, 1), (2, 1)], 4)])
        #expect(Self.isClose(fixed.range(of: [(0, 1)]), 0...0))
        #expect(Self.isClose(fixed.range(of: [(1, 1)]), 1...2))
        #expect(Self.program(3, upper: [0, 2, 1], [([(0, 1), (1, 1), (2, 1)], 4)]).minimum(of: []) == .infeasible)
    }

    @Test func variablesInNoEqualitySitAtABound() {
        // Variable 2 is in no row: up to its bound 7 when bounded; variable 3 has no bound.
        let program = Self.program(4, upper: [.infinity, .infinity, 7, .infinity], [([(0, 1), (1, 1)], 5)])
        #expect(Self.isClose(program.range(of: [(2, 1)]), 0...7))
        #expect(Self.isClose(program.range(of: [(0, 1), (2, -2)]), -14...5))
        #expect(program.maximum(of: [(3, 1)]) == .unbounded)
        #expect(Self.isClose(program.minimum(of: [(3, 1), (0, 1)]), 0))
        // No equalities at all.
        let loose = Self.program(2, upper: [3, .infinity], [])
        #expect(Self.isClose(loose.range(of: [(0, 2)]), 0...6))
        #expect(loose.range(of: [(0, 1), (1, -1)]) == -Double.infinity...3)
        #expect(Self.isClose(loose.range(of: []), 0...0))
    }

    @Test func copiesAreIndependentOfEachOthersEqualities() {
        let original = Self.program(2, [([(0, 1), (1, 1)], 4)])
        #expect(Self.isClose(original.range(of: [(0, 1)]), 0...4))
        var copy = original
        copy.addEquality([(0, 1), (1, -1)], equals: 2)
        #expect(Self.isClose(copy.range(of: [(0, 1)]), 3...3))
        #expect(Self.isClose(original.range(of: [(0, 1)]), 0...4))
    }

    @Test func concurrentQuestionsAgreeWithSerialOnes() async {
        // Two copies of one fresh program: phase I runs under concurrent first questions in one.
        let serial = Self.largeProblem(seed: 5), shared = Self.largeProblem(seed: 5).program
        let expected = serial.objectives.map { serial.program.range(of: $0) }
        let answers = await withTaskGroup(of: (Int, ClosedRange<Double>?).self) { group in
            for (index, objective) in serial.objectives.enumerated() {
                group.addTask { (index, shared.range(of: objective)) }
            }
            return await group.reduce(into: [Int: ClosedRange<Double>?]()) { $0[$1.0] = $1.1 }
        }
        for index in expected.indices { #expect(answers[index] == expected[index]) }
    }

    // MARK: The use it serves

    @Test func aHierarchicalTableWithOnePublishedCell() {
        // Leaf cells 1–4 (variables 0–3) ≥ 0; district A = leaf1 + leaf2 = 10, district B =
        // leaf3 + leaf4 = 20, everything = 30, and leaf1 = 3 published. Then leaf2 = 10 − 3 = 7
        // exactly, while leaf3 may be anything in [0, 20] (leaf4 = 20 − leaf3).
        let program = Self.program(
            4,
            [
                ([(0, 1), (1, 1)], 10),
                ([(2, 1), (3, 1)], 20),
                ([(0, 1), (1, 1), (2, 1), (3, 1)], 30),
                ([(0, 1)], 3),
            ])
        #expect(program.range(of: [(1, 1)]) == 7...7)
        #expect(program.range(of: [(2, 1)]) == 0...20)
        #expect(program.range(of: [(3, 1)]) == 0...20)
        #expect(program.range(of: [(1, 1), (2, 1)]) == 7...27)
    }

    @Test func aLargeTableKeepsSevenDigits() {
        // A 3 × 3 table of counts near a million, with its row and column totals published and
        // the four corners withheld, centre known: the corners move together by ±t, so each has
        // the range its two neighbours' margins allow.
        let cells: [[Double]] = [[999_983, 123_457, 654_321], [777_777, 1_000_000, 5], [31_415, 271_828, 999_999]]
        var program = LinearProgram(variableCount: 9, upperBounds: Array(repeating: .infinity, count: 9))
        for row in 0..<3 { program.addEquality((0..<3).map { (row * 3 + $0, 1) }, equals: cells[row].reduce(0, +)) }
        for column in 0..<3 {
            program.addEquality((0..<3).map { ($0 * 3 + column, 1) }, equals: cells.reduce(0) { $0 + $1[column] })
        }
        for (row, column) in [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)] {
            program.addEquality([(row * 3 + column, 1)], equals: cells[row][column])
        }
        // With the cross known, the corners satisfy c00 + c02 = r0, c20 + c22 = r2, c00 + c20 = k0,
        // c02 + c22 = k2: c00 = t, c02 = r0 − t, c20 = k0 − t, c22 = r2 − k0 + t, all ≥ 0.
        let r0 = 999_983.0 + 654_321, r2 = 31_415.0 + 999_999, k0 = 999_983.0 + 31_415
        let low = max(0, k0 - r2), high = min(r0, k0)
        #expect(Self.isClose(program.range(of: [(0, 1)]), low...high, tolerance: 1e-12))
        #expect(Self.isClose(program.range(of: [(8, 1)]), (r2 - k0 + low)...(r2 - k0 + high), tolerance: 1e-12))
        #expect(Self.isClose(program.range(of: [(4, 1)]), 1_000_000...1_000_000, tolerance: 1e-12))
    }

    // MARK: Against brute force

    /// A fixed-seed linear congruential generator (Knuth's MMIX constants).
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
        mutating func int(_ range: Range<Int>) -> Int { int(range.lowerBound...range.upperBound - 1) }
        mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { int(1...denominator) <= numerator }
    }

    /// A small dense problem: min/max costs·x, A x = b, 0 ≤ x ≤ upper.
    struct Dense: CustomStringConvertible {
        var a: [[Double]]
        var b: [Double]
        var upper: [Double]
        var costs: [Double]
        var description: String { "A \(a) b \(b) upper \(upper) costs \(costs)" }

        var program: LinearProgram {
            var program = LinearProgram(variableCount: upper.count, upperBounds: upper)
            for (row, rhs) in zip(a, b) {
                program.addEquality(
                    row.enumerated().filter { $0.element != 0 }.map { ($0.offset, $0.element) }, equals: rhs)
            }
            return program
        }
    }

    static func randomProblem(_ random: inout LCG, scale: Double = 1) -> Dense {
        let n = random.int(1...6), m = random.int(0...4)
        let upper = (0..<n).map { _ in random.chance(1, in: 3) ? Double.infinity : Double(random.int(0...5)) * scale }
        let a = (0..<m).map { _ in (0..<n).map { _ in random.chance(1, in: 2) ? Double(random.int(-3...3)) : 0 } }
        let b: [Double]
        if random.chance(2, in: 3) {
            // Feasible by construction: b = A x0 for an integer point within the bounds.
            let x0 = upper.map { Double(random.int(0...Int(min($0, 6 * scale)))) }
            b = a.map { row in zip(row, x0).reduce(0) { $0 + $1.0 * $1.1 } }
        } else {
            b = (0..<m).map { _ in Double(random.int(-6...12)) * scale }
        }
        let costs = (0..<n).map { _ in Double(random.int(-4...4)) }
        return Dense(a: a, b: b, upper: upper, costs: costs)
    }

    /// Every vertex of {A x = b, 0 ≤ x ≤ upper}: each variable at 0, at a finite upper bound or
    /// free, the free ones solved for; kept where that solution is unique and within bounds.
    static func vertices(_ a: [[Double]], _ b: [Double], upper: [Double]) -> [[Double]] {
        let n = upper.count
        var found: [[Double]] = []
        var choice = [Int](repeating: 0, count: n)  // 0: at 0, 1: at upper, 2: free
        func visit(_ variable: Int) {
            if variable == n {
                if let x = solve(a, b, upper: upper, choice: choice) { found.append(x) }
                return
            }
            for option in 0...2 where option != 1 || upper[variable].isFinite {
                choice[variable] = option
                visit(variable + 1)
            }
        }
        visit(0)
        return found
    }

    private static func solve(_ a: [[Double]], _ b: [Double], upper: [Double], choice: [Int]) -> [Double]? {
        let free = choice.indices.filter { choice[$0] == 2 }
        var x = choice.indices.map { choice[$0] == 1 ? upper[$0] : 0 }
        // Rows of [A_free | b − A_fixed x_fixed], eliminated with partial pivoting.
        var rows = a.indices.map { i in
            free.map { a[i][$0] } + [
                b[i] - choice.indices.filter { choice[$0] == 1 }.reduce(0) { $0 + a[i][$1] * upper[$1] }
            ]
        }
        var pivotRow = 0
        for column in free.indices {
            guard let best = (pivotRow..<rows.count).max(by: { abs(rows[$0][column]) < abs(rows[$1][column]) }),
                abs(rows[best][column]) > 1e-9
            else { return nil }  // not unique
            rows.swapAt(pivotRow, best)
            for i in rows.indices where i != pivotRow {
                let factor = rows[i][column] / rows[pivotRow][column]
                if factor != 0 { for k in rows[i].indices { rows[i][k] -= factor * rows[pivotRow][k] } }
            }
            pivotRow += 1
        }
        for i in pivotRow..<rows.count where abs(rows[i][free.count]) > 1e-9 { return nil }  // inconsistent
        for (index, variable) in free.enumerated() {
            x[variable] = rows[index][free.count] / rows[index][index]
            guard x[variable] >= -1e-9, x[variable] <= upper[variable] + 1e-9 else { return nil }
        }
        return x
    }

    /// The minimum by enumeration: infeasible without vertices; unbounded when an extreme ray
    /// (a vertex of {A r = 0, Σ r = 1, r ≥ 0, r_j = 0 where x_j is bounded}) lowers the cost.
    static func bruteForceMinimum(_ problem: Dense) -> Outcome {
        let points = vertices(problem.a, problem.b, upper: problem.upper)
        guard !points.isEmpty else { return .infeasible }
        func cost(_ x: [Double]) -> Double { zip(problem.costs, x).reduce(0) { $0 + $1.0 * $1.1 } }
        let n = problem.upper.count
        let rays = vertices(
            problem.a + [Array(repeating: 1, count: n)], problem.b.map { _ in 0 } + [1],
            upper: problem.upper.map { $0.isFinite ? 0 : .infinity })
        if rays.contains(where: { cost($0) < -1e-9 }) { return .unbounded }
        return .optimal(points.map(cost).min()!)
    }

    static func agree(_ solved: Outcome, _ expected: Outcome, tolerance: Double) -> Bool {
        switch (solved, expected) {
        case (.optimal(let value), .optimal(let truth)): return abs(value - truth) <= tolerance * max(1, abs(truth))
        default: return solved == expected
        }
    }

    @Test(arguments: [1, 2, 3, 42, 2026] as [UInt64])
    func smallRandomProblemsMatchVertexEnumeration(seed: UInt64) {
        var random = LCG(state: seed)
        var seen: [String: Int] = [:]
        for _ in 0..<400 {
            var problem = Self.randomProblem(&random)
            let program = problem.program
            // Objective terms split in two, to exercise duplicates.
            let objective: [(Int, Double)] = problem.costs.enumerated().flatMap {
                [($0.offset, $0.element - 1), ($0.offset, 1)]
            }
            let minimum = program.minimum(of: objective)
            let expected = Self.bruteForceMinimum(problem)
            #expect(Self.agree(minimum, expected, tolerance: 1e-6), "min: \(problem)")
            problem.costs = problem.costs.map { -$0 }
            let maximum = program.maximum(of: objective)
            let expectedMaximum: Outcome =
                switch Self.bruteForceMinimum(problem) {
                case .optimal(let value): .optimal(-value)
                case let other: other
                }
            #expect(Self.agree(maximum, expectedMaximum, tolerance: 1e-6), "max: \(problem)")
            seen["\(expected)".prefix(5).description, default: 0] += 1
        }
        // The generator must reach every outcome.
        #expect(seen.count == 3, "\(seen)")
    }

    @Test func randomProblemsWithLargeDataMatchVertexEnumeration() {
        var random = LCG(state: 7)
        for _ in 0..<300 {
            let problem = Self.randomProblem(&random, scale: 200_000)
            let objective = problem.costs.enumerated().map { ($0.offset, $0.element) }
            #expect(
                Self.agree(problem.program.minimum(of: objective), Self.bruteForceMinimum(problem), tolerance: 1e-7),
                "\(problem)")
        }
    }

    // MARK: Size and speed

    /// 100 variables (half with upper bounds up to 1000), 150 rows: 70 independent sparse rows
    /// with small integer coefficients and 80 sums of two of them, b = A x0 for an integer x0.
    static func largeProblem(seed: UInt64) -> (program: LinearProgram, point: [Double], objectives: [[(Int, Double)]]) {
        var random = LCG(state: seed)
        let n = 100
        let upper = (0..<n).map { _ in random.chance(1, in: 2) ? Double.infinity : Double(random.int(1...1000)) }
        let point = upper.map { Double(random.int(0...Int(min($0, 1000)))) }
        var rows: [[(Int, Double)]] = (0..<70).map { _ in
            (0..<random.int(3...10)).map { _ in
                (random.int(0..<n), Double(random.chance(1, in: 2) ? 1 : random.int(-5...5)))
            }
        }
        for _ in 0..<80 { rows.append(rows[random.int(0...69)] + rows[random.int(0...69)]) }
        var program = LinearProgram(variableCount: n, upperBounds: upper)
        for row in rows { program.addEquality(row, equals: row.reduce(0) { $0 + $1.1 * point[$1.0] }) }
        let objectives = (0..<50).map { _ in
            (0..<random.int(1...20)).map { _ in (random.int(0..<n), Double(random.int(-3...3))) }
        }
        return (program, point, objectives)
    }

    @Test func aHundredByHundredFiftyProblem() {
        let (program, point, objectives) = Self.largeProblem(seed: 11)
        let clock = ContinuousClock()
        let first = clock.measure { _ = program.minimum(of: []) }
        var ranges: [ClosedRange<Double>?] = []
        let all = clock.measure { ranges = objectives.map { program.range(of: $0) } }
        for (objective, range) in zip(objectives, ranges) {
            let value = objective.reduce(0) { $0 + $1.1 * point[$1.0] }
            // The known feasible point lies within every range.
            #expect(
                range.map {
                    $0.lowerBound - 1e-6 * max(1, abs(value)) <= value
                        && value <= $0.upperBound + 1e-6 * max(1, abs(value))
                } == true)
        }
        print("LinearProgram 100×150: phase I \(first), 100 solves \(all) (\(all / 100) each)")
    }
}
