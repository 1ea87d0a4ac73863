import Aggregation
import DataQuality
import Testing

@Suite struct ValidationRuleTests {
    static let sums: [String: RuleCell.Combination] = [
        "completed": .init(method: .sum), "enrolled": .init(method: .sum), "dropped": .init(method: .sum),
    ]

    static func rule(
        _ left: String, _ operator: RuleOperator, _ right: String, missing: MissingValueStrategy = .skipIfAnyMissing
    ) throws -> ValidationRule {
        ValidationRule(
            id: "r", agenda: "a", name: "r", left: try RuleExpression.parse(left), operator: `operator`,
            right: try RuleExpression.parse(right), missing: missing)
    }

    static func cell(_ values: [String: Double]) -> RuleCell {
        RuleCell(rows: values.map { RuleCell.Row(indicator: $0.key, value: $0.value) }, combinations: sums)
    }

    @Test(arguments: [
        (RuleOperator.less, 100.0, 120.0, true), (.less, 120, 120, false),
        (.lessOrEqual, 120, 120, true), (.lessOrEqual, 130, 120, false),
        (.equal, 120, 120, true), (.equal, 119, 120, false),
        (.notEqual, 119, 120, true), (.notEqual, 120, 120, false),
        (.greaterOrEqual, 120, 120, true), (.greaterOrEqual, 119, 120, false),
        (.greater, 121, 120, true), (.greater, 120, 120, false),
    ])
    func comparisons(_ operator: RuleOperator, _ completed: Double, _ enrolled: Double, _ holds: Bool) throws {
        let outcome = try Self.rule("completed", `operator`, "enrolled").evaluate(
            in: Self.cell(["completed": completed, "enrolled": enrolled]))
        #expect(outcome == (holds ? .holds : .violated(left: completed, right: enrolled)))
    }

    @Test func equalityToleratesFloatNoise() throws {
        let rule = try Self.rule("completed + dropped", .equal, "enrolled")
        #expect(rule.evaluate(in: Self.cell(["completed": 0.1, "dropped": 0.2, "enrolled": 0.3])) == .holds)
        let strict = try Self.rule("completed + dropped", .less, "enrolled")
        #expect(
            strict.evaluate(in: Self.cell(["completed": 0.1, "dropped": 0.2, "enrolled": 0.3]))
                == .violated(left: 0.1 + 0.2, right: 0.3))
        #expect(rule.evaluate(in: Self.cell(["completed": 1e6, "dropped": 1, "enrolled": 1e6])) != .holds)
    }

    @Test func skipIfAnyMissing() throws {
        let rule = try Self.rule("completed + dropped", .lessOrEqual, "enrolled")
        #expect(rule.evaluate(in: Self.cell(["completed": 500, "enrolled": 100])) == .skipped)
        #expect(rule.evaluate(in: Self.cell([:])) == .skipped)
        #expect(
            rule.evaluate(in: Self.cell(["completed": 50, "dropped": 60, "enrolled": 100]))
                == .violated(left: 110, right: 100))
    }

    @Test func skipIfAllMissingCountsSomeMissingAsZero() throws {
        let rule = try Self.rule("completed + dropped", .lessOrEqual, "enrolled", missing: .skipIfAllMissing)
        #expect(rule.evaluate(in: Self.cell(["completed": 50])) == .violated(left: 50, right: 0))
        #expect(rule.evaluate(in: Self.cell(["completed": 50, "enrolled": 60])) == .holds)
        #expect(rule.evaluate(in: Self.cell([:])) == .skipped)
    }

    @Test func neverSkipEvaluatesEvenAnEmptyCell() throws {
        let rule = try Self.rule("enrolled", .greater, "0", missing: .neverSkip)
        #expect(rule.evaluate(in: Self.cell([:])) == .violated(left: 0, right: 0))
        #expect(rule.evaluate(in: Self.cell(["enrolled": 3])) == .holds)
    }

    @Test func compulsoryPair() throws {
        let rule = try Self.rule("completed", .compulsoryPair, "enrolled", missing: .neverSkip)
        #expect(rule.evaluate(in: Self.cell(["completed": 5, "enrolled": 6])) == .holds)
        #expect(rule.evaluate(in: Self.cell([:])) == .holds)
        #expect(rule.evaluate(in: Self.cell(["completed": 5])) == .violated(left: 5, right: nil))
        #expect(rule.evaluate(in: Self.cell(["enrolled": 6])) == .violated(left: nil, right: 6))
    }

    @Test func exclusivePair() throws {
        let rule = try Self.rule("completed", .exclusivePair, "enrolled")
        #expect(rule.evaluate(in: Self.cell(["completed": 5])) == .holds)
        #expect(rule.evaluate(in: Self.cell([:])) == .holds)
        #expect(rule.evaluate(in: Self.cell(["completed": 5, "enrolled": 6])) == .violated(left: 5, right: 6))
    }

    @Test func filtersAndCoefficientsOverSeveralRows() throws {
        let rule = try Self.rule("enrolled[age_group=16-24]", .lessOrEqual, "0.5 * enrolled")
        func cell(young: Double) -> RuleCell {
            RuleCell(
                rows: [
                    .init(indicator: "enrolled", dimensions: ["age_group": "16-24", "sex": "f"], value: young),
                    .init(indicator: "enrolled", dimensions: ["age_group": "16-24", "sex": "m"], value: 10),
                    .init(indicator: "enrolled", dimensions: ["age_group": "25-44", "sex": "f"], value: 60),
                    .init(indicator: "completed", dimensions: ["age_group": "16-24"], value: 1000),
                ], combinations: Self.sums)
        }
        #expect(rule.evaluate(in: cell(young: 20)) == .holds)
        #expect(rule.evaluate(in: cell(young: 70)) == .violated(left: 80, right: 70))
        let twoFilters = try Self.rule("enrolled[age_group=16-24, sex=m]", .equal, "10")
        #expect(twoFilters.evaluate(in: cell(young: 70)) == .holds)
        let nothingMatches = try Self.rule("enrolled[age_group=45-64]", .equal, "10")
        #expect(nothingMatches.evaluate(in: cell(young: 70)) == .skipped)
    }

    @Test func eachAggregationCombinesTheCellsRows() throws {
        let values = [4.0, 10, 1]
        let expected: [(AggregationMethod, Double)] = [(.sum, 15), (.last, 15), (.mean, 5), (.min, 1), (.max, 10)]
        for (method, value) in expected {
            let cell = RuleCell(
                rows: values.enumerated().map {
                    .init(indicator: "score", dimensions: ["d": "\($0.offset)"], value: $0.element)
                },
                combinations: ["score": .init(method: method)])
            #expect(try Self.rule("score", .equal, "\(Int(value))").evaluate(in: cell) == .holds, "\(method)")
        }
    }

    @Test func ratiosDivideTheSumsAndScale() throws {
        let cell = RuleCell(
            rows: [
                .init(indicator: "pass_rate", dimensions: ["d": "x"], numerator: 1, denominator: 4),
                .init(indicator: "pass_rate", dimensions: ["d": "y"], numerator: 3, denominator: 4),
            ], combinations: ["pass_rate": .init(method: .ratio, ratioScale: 100)])
        #expect(try Self.rule("pass_rate", .equal, "50").evaluate(in: cell) == .holds)
        #expect(try Self.rule("pass_rate[d=x]", .equal, "25").evaluate(in: cell) == .holds)
    }

    @Test func messages() throws {
        #expect(
            try Self.rule("completed", .lessOrEqual, "enrolled").message(left: 130, right: 120)
                == "completed (130) must be <= enrolled (120)")
        #expect(
            try Self.rule("completed+dropped", .less, "100").message(left: 100.5, right: 100)
                == "completed + dropped (100.5) must be < 100")
        #expect(
            try Self.rule("completed", .compulsoryPair, "enrolled").message(left: 5, right: nil)
                == "completed (5) and enrolled (missing) must be reported together or not at all")
        #expect(
            try Self.rule("completed", .exclusivePair, "enrolled").message(left: 5, right: 6)
                == "completed (5) and enrolled (6) must not both be reported")
    }

    @Test func indicatorsAndWireSpellings() throws {
        #expect(
            try Self.rule("completed[x=1] + dropped", .less, "2 * enrolled").indicators == [
                "completed", "dropped", "enrolled",
            ])
        #expect(
            RuleOperator.allCases.map(\.rawValue) == [
                "<", "<=", "==", "!=", ">=", ">", "compulsory_pair", "exclusive_pair",
            ])
        #expect(
            MissingValueStrategy.allCases.map(\.rawValue) == [
                "skip_if_any_missing", "skip_if_all_missing", "never_skip",
            ])
        #expect(RuleImportance.allCases.map(\.rawValue) == ["high", "medium", "low"])
        #expect(RuleAction.allCases.map(\.rawValue) == ["warn", "reject"])
    }
}
