import Aggregation
import Testing

@Suite("Partials, groupings, the neighborhood tree, rolling periods")
struct BuildingBlockTests {
    @Test func measurementHoldsOneValue() {
        let partial = Fixtures.raw("library", "northside", "2026-10", 42)
        #expect(partial.count == 1 && partial.sum == 42 && partial.min == 42 && partial.max == 42)
        #expect(partial.partners == ["library"] && partial.values == [42])
    }

    @Test func ratioMeasurementsUnderlyingValueIsScaled() {
        let partial = Fixtures.percent("clinic", "northside", "2026-10", 3, 4)
        #expect(partial.sumNumerator == 3 && partial.sumDenominator == 4)
        #expect(partial.sum == 75 && partial.values == [75])
    }

    @Test func mergeCombinesEveryStatistic() {
        var a = Fixtures.raw("library", "northside", "2026-10", 4)
        a.merge(Fixtures.raw("library", "northside", "2026-10", 10))
        #expect(a.partner == "library")
        a.merge(Fixtures.raw("school", "northside", "2026-10", 1))
        #expect(a.partner == nil && a.partners == ["library", "school"])
        #expect(a.count == 3 && a.sum == 15 && a.min == 1 && a.max == 10 && a.values == [4, 10, 1])
        var withoutValues = Fixtures.raw("clinic", "northside", "2026-10", 2)
        withoutValues.values = nil
        #expect(a.merging(withoutValues).values == nil)
        #expect(withoutValues.merging(a).values == nil)
    }

    @Test(arguments: [
        ("neighborhood", Grouping.neighborhood), ("partner", .partner), ("period", .period),
        ("dimension:age_group", .dimension("age_group")),
    ])
    func groupingsRoundTrip(_ text: String, _ grouping: Grouping) {
        #expect(Grouping(text) == grouping)
        #expect(grouping.name == text)
    }

    @Test(arguments: ["", "dimension:", "dimension", "Neighborhood", "dim:age"])
    func refusesUnknownGroupings(_ text: String) {
        #expect(Grouping(text) == nil)
    }

    @Test func treeKnowsDepthsAncestorsAndSubtrees() {
        let tree = Fixtures.tree
        #expect(tree.depth(of: "city") == 0 && tree.depth(of: "north") == 1 && tree.depth(of: "riverside") == 2)
        #expect(tree.depth(of: "atlantis") == nil)
        #expect(tree.ancestor(of: "riverside", atDepth: 1) == "north")
        #expect(tree.ancestor(of: "riverside", atDepth: 2) == "riverside")
        #expect(tree.ancestor(of: "north", atDepth: 2) == nil)
        #expect(tree.isWithin("riverside", subtreeOf: "north") && tree.isWithin("north", subtreeOf: "north"))
        #expect(!tree.isWithin("southside", subtreeOf: "north") && !tree.isWithin("atlantis", subtreeOf: "city"))
        #expect(tree.population(of: "north") == 4_000 && tree.population(of: "southside") == nil)
    }

    @Test func treeSurvivesCyclesAndUnknownParents() {
        let tree = NeighborhoodTree(parents: ["a": "b", "b": "a", "c": "elsewhere"], populations: [:])
        #expect(tree.depth(of: "a") == nil)
        #expect(tree.depth(of: "c") == 1 && tree.ancestor(of: "c", atDepth: 0) == "elsewhere")
    }

    @Test(arguments: [
        ("2026-10", PeriodType.quarter, "2026-Q4"), ("2026-10", .year, "2026"), ("2026-10", .month, "2026-10"),
        ("2026-Q2", .month, "2026-Q2"), ("2026-Q2", .year, "2026"),
        // A week belongs where its Thursday is.
        ("2026-W01", .month, "2026-01"), ("2026-W01", .year, "2026"), ("2020-W53", .month, "2020-12"),
        ("2026-W53", .quarter, "2026-Q4"), ("2027-W01", .year, "2027"), ("2026-W14", .month, "2026-04"),
    ])
    func rollsUpToCoarserPeriods(_ text: String, _ type: PeriodType, _ expected: String) {
        #expect(Fixtures.period(text).rolled(to: type).description == expected)
    }

    @Test(arguments: [
        ("2026", "2025"), ("2026-Q1", "2025-Q4"), ("2026-Q3", "2026-Q2"), ("2026-01", "2025-12"),
        ("2026-10", "2026-09"), ("2021-W01", "2020-W53"), ("2026-W01", "2025-W52"), ("2026-W10", "2026-W09"),
    ])
    func stepsBackOnePeriod(_ text: String, _ expected: String) {
        #expect(Fixtures.period(text).previous?.description == expected)
    }

    @Test func nothingBeforeTheYear1000() {
        #expect(Fixtures.period("1000-01").previous == nil)
    }
}
