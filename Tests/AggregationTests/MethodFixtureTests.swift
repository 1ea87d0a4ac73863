import Aggregation
import Testing

/// Small tables worked out by hand, one per method and per classic mistake.
@Suite("Aggregation methods on hand-worked tables")
struct MethodFixtureTests {
    typealias F = Fixtures

    /// | partner | neighborhood | period  | value |
    /// | A       | northside    | 2026-01 | 10    |
    /// | B       | northside    | 2026-01 | 20    |
    /// | C       | riverside    | 2026-01 | 5     |
    /// | A       | riverside    | 2026-02 | 7     |
    /// northside: 10+20 = 30 (2 measurements, 2 partners, min 10, max 20, mean 15, median 15)
    /// riverside: 5+7 = 12 (min 5, max 7, mean 6, median 6)
    /// total: 42, 4 measurements, 3 partners, mean 10.5, median of 5,7,10,20 = 8.5
    static let sumTable = [
        F.raw("a", "northside", "2026-01", 10), F.raw("b", "northside", "2026-01", 20),
        F.raw("c", "riverside", "2026-01", 5), F.raw("a", "riverside", "2026-02", 7),
    ]

    @Test func sumAddsUpAndDescribesItsValues() throws {
        let report = F.report(Self.sumTable, F.profile(.sum), by: [.neighborhood])
        #expect(report.rows.map(\.key) == [["neighborhood": "northside"], ["neighborhood": "riverside"]])
        let northside = try #require(report.row(["neighborhood": "northside"]))
        #expect(northside.value == 30 && northside.measurements == 2 && northside.partners == 2)
        #expect(northside.min == 10 && northside.max == 20 && northside.mean == 15 && northside.median == 15)
        let riverside = try #require(report.row(["neighborhood": "riverside"]))
        #expect(riverside.value == 12 && riverside.mean == 6 && riverside.median == 6)
        #expect(report.total.key == [:])
        #expect(report.total.value == 42 && report.total.measurements == 4 && report.total.partners == 3)
        #expect(report.total.partnerIDs == ["a", "b", "c"])
        #expect(report.total.mean == 10.5 && report.total.median == 8.5)
    }

    @Test func sumAddsUpAcrossTimeToo() {
        // Quarter 2026-Q1 holds all four rows: 42.
        let report = F.report(Self.sumTable, F.profile(.sum), by: [.period], periodType: .quarter)
        #expect(report.rows.map(\.key) == [["period": "2026-Q1"]])
        #expect(report.values == [42])
    }

    @Test func noGroupingsMeansTheTotalAlone() {
        let report = F.report(Self.sumTable, F.profile(.sum))
        #expect(report.rows.isEmpty && report.total.value == 42)
    }

    /// Percentages: 1/2 = 50 % and 3/4 = 75 % make 4/6 = 66.67 %, not (50+75)/2 = 62.5 %;
    /// 1/2 and 99/100 make 100/102 = 98.04 %, not (50+99)/2 = 74.5 %.
    @Test func ratioIsTheRatioOfSumsNeverTheMeanOfPercentages() {
        let profile = F.profile(.ratio, scale: 100)
        let small = F.report(
            [F.percent("a", "northside", "2026-01", 1, 2), F.percent("b", "northside", "2026-01", 3, 4)], profile)
        #expect(isClose(small.total.value, 400.0 / 6))
        #expect(!isClose(small.total.value, 62.5))
        let lopsided = F.report(
            [F.percent("a", "northside", "2026-01", 1, 2), F.percent("b", "riverside", "2026-01", 99, 100)],
            profile, by: [.neighborhood])
        #expect(isClose(lopsided.total.value, 10_000.0 / 102))
        #expect(lopsided.values == [50, 99])
        // The mean of the underlying percentages is still reported, as the mean, not the value.
        #expect(isClose(lopsided.total.mean, 74.5))
    }

    @Test func ratioOverNothingIsUndefinedNotZero() {
        let report = F.report([F.percent("a", "northside", "2026-01", 0, 0)], F.profile(.ratio, scale: 100))
        #expect(report.total.value == nil)
    }

    /// One partner, northside, 2026-01, by age group; a second partner likewise:
    /// | age   | a | b | sum |
    /// | 16-24 | 3 | 4 | 7   |
    /// | 25-44 | 5 | 6 | 11  |
    /// | 45+   | 2 | 1 | 3   |
    /// total = 21, counted once from the finest cells (not 42 from cells + rows).
    @Test func disaggregatedRowsAreNotDoubleCounted() {
        let cells: [(String, Double, Double)] = [("16-24", 3, 4), ("25-44", 5, 6), ("45+", 2, 1)]
        let partials = cells.flatMap { age, a, b in
            [
                F.raw("a", "northside", "2026-01", a, ["age_group": age]),
                F.raw("b", "northside", "2026-01", b, ["age_group": age]),
            ]
        }
        let report = F.report(partials, F.profile(.sum), by: [.dimension("age_group")])
        #expect(report.rows.map { $0.key["dimension:age_group"] } == ["16-24", "25-44", "45+"])
        #expect(report.values == [7, 11, 3])
        #expect(report.total.value == 21 && report.total.measurements == 6)
        let byNeighborhood = F.report(partials, F.profile(.sum), by: [.neighborhood])
        #expect(byNeighborhood.values == [21] && byNeighborhood.total.value == 21)
    }

    /// Active volunteers (a stock), one series: Jan 10, Feb 12, Mar 11 → Q1 = 11 (the latest month), not 33.
    @Test func stocksAreNotSummedAcrossMonths() {
        let partials = [
            F.raw("a", "northside", "2026-01", 10), F.raw("a", "northside", "2026-02", 12),
            F.raw("a", "northside", "2026-03", 11),
        ]
        let quarterly = F.report(partials, F.profile(.last), by: [.period], periodType: .quarter)
        #expect(quarterly.values == [11] && quarterly.total.value == 11)
        let monthly = F.report(partials, F.profile(.last), by: [.period])
        #expect(monthly.values == [10, 12, 11])
        // The total over the whole range is still each series' latest value, not 10+12+11.
        #expect(monthly.total.value == 11)
    }

    /// Two series with different latest months:
    /// | series          | Jan | Feb | Mar |
    /// | a, northside    | 10  | 12  | 11  |
    /// | b, northside    | 5   | 6   | –   |
    /// | a, riverside    | –   | 3   | –   |
    /// Q1 = 11 + 6 + 3 = 20; by neighborhood: northside 17, riverside 3.
    @Test func stocksTakeEachSeriesLatestPeriodThenSum() {
        let partials = [
            F.raw("a", "northside", "2026-01", 10), F.raw("a", "northside", "2026-02", 12),
            F.raw("a", "northside", "2026-03", 11),
            F.raw("b", "northside", "2026-01", 5), F.raw("b", "northside", "2026-02", 6),
            F.raw("a", "riverside", "2026-02", 3),
        ]
        let quarterly = F.report(partials, F.profile(.last), by: [.neighborhood], periodType: .quarter)
        #expect(quarterly.values == [17, 3] && quarterly.total.value == 20)
        // Monthly: Jan 15, Feb 12+6+3 = 21, Mar 11.
        #expect(F.report(partials, F.profile(.last), by: [.period]).values == [15, 21, 11])
    }

    /// | partner | neighborhood | depth | value |
    /// | a       | northside    | 2     | 10    |
    /// | b       | riverside    | 2     | 20    |
    /// | c       | southside    | 2     | 5     |
    /// | d       | north        | 1     | 7     |
    /// | e       | city         | 0     | 100   |
    /// depth 1: north 10+20+7 = 37, south 5, and city's own 100 as a row reported above the
    /// level; total 142 at every depth. within north at depth 2: north's own 7 (reported above),
    /// northside 10, riverside 20; total 37 (per 1,000: 37/4000 → 9.25).
    @Test func aNeighborhoodTreeRolledUpCountsEachMeasurementOnce() {
        let partials = [
            F.raw("a", "northside", "2026-01", 10), F.raw("b", "riverside", "2026-01", 20),
            F.raw("c", "southside", "2026-01", 5),
            F.raw("d", "north", "2026-01", 7), F.raw("e", "city", "2026-01", 100),
        ]
        let districts = F.report(partials, F.profile(.sum), by: [.neighborhood], depth: 1)
        #expect(districts.rows.map { $0.key["neighborhood"] } == ["city", "north", "south"])
        #expect(districts.rows.map(\.reportedAbove) == [true, false, false])
        #expect(districts.values == [100, 37, 5] && districts.total.value == 142)
        #expect(districts.rows[1].measurements == 3 && districts.rows[1].partners == 3)
        #expect(F.report(partials, F.profile(.sum), by: [.neighborhood], depth: 0).values == [142])
        for depth in [nil, 0, 1, 2] {
            #expect(
                F.report(partials, F.profile(.sum), by: [.neighborhood], depth: depth).total.value == 142,
                "level \(String(describing: depth))")
        }
        let north = F.report(partials, F.profile(.sum), by: [.neighborhood], depth: 2, within: "north")
        #expect(north.rows.map { $0.key["neighborhood"] } == ["north", "northside", "riverside"])
        #expect(north.values == [7, 10, 20] && north.total.value == 37 && north.total.per1000 == 9.25)
        // Without a depth, `within` keeps the district's own row too.
        #expect(F.report(partials, F.profile(.sum), by: [.neighborhood], within: "north").values == [7, 10, 20])
    }

    /// northside: 2, 4, 6 (mean 4); riverside: 10 (mean 10).
    /// total mean = (2+4+6+10)/4 = 5.5, not the mean of the cell means (4+10)/2 = 7.
    @Test func meanIsOfAllValuesNotOfCellMeans() {
        let partials = [
            F.raw("a", "northside", "2026-01", 2), F.raw("b", "northside", "2026-01", 4),
            F.raw("c", "northside", "2026-02", 6),
            F.raw("a", "riverside", "2026-03", 10),
        ]
        let report = F.report(partials, F.profile(.mean), by: [.neighborhood])
        #expect(report.values == [4, 10])
        #expect(report.total.value == 5.5)
        // Months into a quarter: the same mean of all values.
        #expect(F.report(partials, F.profile(.mean), by: [.period], periodType: .quarter).values == [5.5])
    }

    @Test func minAndMaxTakeTheExtremes() {
        #expect(F.report(Self.sumTable, F.profile(.min), by: [.neighborhood]).values == [10, 5])
        #expect(F.report(Self.sumTable, F.profile(.min)).total.value == 5)
        #expect(F.report(Self.sumTable, F.profile(.max), by: [.neighborhood]).values == [20, 7])
        #expect(F.report(Self.sumTable, F.profile(.max), by: [.period], periodType: .year).values == [20])
    }

    /// northside 30 / 1,500 residents → 20 per 1,000; riverside 12 / 2,500 → 4.8; southside has no population.
    @Test func per1000NeedsAPopulationAndACountableMethod() {
        let partials = Self.sumTable + [F.raw("c", "southside", "2026-01", 9)]
        let report = F.report(partials, F.profile(.sum), by: [.neighborhood])
        #expect(report.rows.map(\.per1000) == [20, 4.8, nil])
        #expect(report.total.per1000 == nil)  // no `within`: no population to divide by
        #expect(F.report(partials, F.profile(.sum), within: "city").total.per1000 == 51.0 / 10)
        #expect(F.report(partials, F.profile(.mean), by: [.neighborhood]).rows.allSatisfy { $0.per1000 == nil })
        #expect(F.report(partials, F.profile(.last), by: [.neighborhood]).rows[0].per1000 == 20)
        // Grouped by period only, rows are not neighborhoods.
        #expect(F.report(partials, F.profile(.sum), by: [.period]).rows.allSatisfy { $0.per1000 == nil })
    }

    /// Increase is better: baseline 10, target 30, value 25 → (25−10)/(30−10) = 0.75.
    /// Decrease is better: baseline 40, target 20, value 35 → (35−40)/(20−40) = 0.25; value 45 → −0.25 (worse).
    @Test func progressRunsFromBaselineToTargetInEitherDirection() {
        var up = F.profile(.sum)
        up.baseline = (F.period("2025-01"), 10)
        up.target = (F.period("2027-12"), 30)
        let rising = F.report([F.raw("a", "northside", "2026-01", 25)], up)
        #expect(rising.total.baseline == 10 && rising.total.target == 30 && rising.total.progress == 0.75)

        var down = F.profile(.mean)
        down.increaseIsBetter = false
        down.baseline = (F.period("2025-01"), 40)
        down.target = (F.period("2027-12"), 20)
        #expect(F.report([F.raw("a", "northside", "2026-01", 35)], down).total.progress == 0.25)
        #expect(F.report([F.raw("a", "northside", "2026-01", 45)], down).total.progress == -0.25)
        let rows = F.report(
            [F.raw("a", "northside", "2026-01", 35), F.raw("a", "riverside", "2026-01", 20)], down, by: [.neighborhood])
        #expect(rows.rows.map(\.progress) == [0.25, 1])

        var flat = up
        flat.target = (F.period("2027-12"), 10)
        #expect(F.report([F.raw("a", "northside", "2026-01", 25)], flat).total.progress == nil)
        var noTarget = up
        noTarget.target = nil
        #expect(F.report([F.raw("a", "northside", "2026-01", 25)], noTarget).total.progress == nil)
    }

    /// Jan 10, Feb 15, Apr 20 (no March): change nil, +5, nil. Per neighborhood, within the neighborhood.
    @Test func changeIsFromThePreviousPeriodOfTheSameGroup() {
        let partials = [
            F.raw("a", "northside", "2026-01", 10), F.raw("a", "northside", "2026-02", 15),
            F.raw("a", "northside", "2026-04", 20),
            F.raw("a", "riverside", "2026-01", 1), F.raw("a", "riverside", "2026-02", 3),
        ]
        let byPeriod = F.report(partials.filter { $0.neighborhood == "northside" }, F.profile(.sum), by: [.period])
        #expect(byPeriod.rows.map(\.change) == [nil, 5, nil])
        #expect(byPeriod.total.change == nil)
        let both = F.report(partials, F.profile(.sum), by: [.neighborhood, .period])
        #expect(
            both.rows.map { "\($0.key["neighborhood"]!) \($0.key["period"]!)" } == [
                "northside 2026-01", "northside 2026-02", "northside 2026-04", "riverside 2026-01", "riverside 2026-02",
            ])
        #expect(both.rows.map(\.change) == [nil, 5, nil, nil, 2])
        // Not grouped by period: no change.
        #expect(F.report(partials, F.profile(.sum), by: [.neighborhood]).rows.allSatisfy { $0.change == nil })
        // Quarters across a year boundary: 2025-Q4 = 7, 2026-Q1 = 10+15+1+3 = 29 → +22.
        let quarters = F.report(
            partials + [F.raw("b", "northside", "2025-11", 7)], F.profile(.sum), by: [.period], periodType: .quarter)
        #expect(quarters.rows.map(\.change) == [nil, 22, 20 - 29])
    }

    @Test func rowsSortByKeysInGroupingOrder() {
        let partials = [
            F.raw("a", "riverside", "2026-02", 1), F.raw("a", "northside", "2026-10", 1),
            F.raw("a", "northside", "2026-09", 1),
        ]
        let byPeriodFirst = F.report(partials, F.profile(.sum), by: [.period, .neighborhood])
        #expect(byPeriodFirst.rows.map { $0.key["period"]! } == ["2026-02", "2026-09", "2026-10"])
        let byPartner = F.report(partials, F.profile(.sum), by: [.partner, .neighborhood])
        #expect(
            byPartner.rows.map(\.key) == [
                ["partner": "a", "neighborhood": "northside"], ["partner": "a", "neighborhood": "riverside"],
            ])
    }

    @Test func medianIsUnknownOnceAValueListIsDropped() {
        var rollup = F.raw("a", "northside", "2026-01", 3).merging(F.raw("b", "northside", "2026-01", 5))
        rollup.partner = nil
        rollup.values = nil
        let report = F.report([rollup, F.raw("c", "riverside", "2026-01", 1)], F.profile(.sum), by: [.neighborhood])
        #expect(report.rows.map(\.median) == [nil, 1])
        #expect(report.total.median == nil && report.total.value == 9 && report.total.partners == 3)
    }
}
