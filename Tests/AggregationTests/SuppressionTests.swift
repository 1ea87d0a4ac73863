import Aggregation
import PropertyBased
import Testing

@Suite("Small-cell suppression")
struct SuppressionTests {
    typealias F = Fixtures
    static let policy = SuppressionPolicy()

    /// Three partners reporting `values` each (in order a, b, c) for one neighborhood and month.
    static func threePartners(_ neighborhood: String, _ period: String, _ values: [Double]) -> [Partial] {
        zip(["a", "b", "c"], values).map { F.raw($0, neighborhood, period, $1) }
    }

    /// | neighborhood | partners | value |
    /// | northside    | a, b, c  | 30    |
    /// | riverside    | a        | 4     |  ← fewer than 3 partners: withheld
    /// | southside    | a, b, c  | 50    |
    /// total 84 is visible, so 84 − 30 − 50 would give riverside away: the smallest visible row
    /// (northside, 30) is withheld too, and 84 − 50 = 34 is no longer riverside's 4.
    @Test func aCellWithTooFewPartnersIsWithheldAndProtected() throws {
        let partials = Self.threePartners("northside", "2026-01", [10, 10, 10]) + [F.raw("a", "riverside", "2026-01", 4)]
            + Self.threePartners("southside", "2026-01", [20, 20, 10])
        let report = Suppression.apply(F.report(partials, F.profile(.sum), by: [.neighborhood]), policy: Self.policy, isCount: false)
        let riverside = try #require(report.row(["neighborhood": "riverside"]))
        #expect(riverside.suppressed && riverside.value == nil && riverside.suppressionReason == "fewer than 3 partners")
        #expect(riverside.min == nil && riverside.max == nil && riverside.mean == nil && riverside.median == nil)
        #expect(riverside.per1000 == nil && riverside.progress == nil)
        let northside = try #require(report.row(["neighborhood": "northside"]))
        #expect(northside.suppressed && northside.suppressionReason == "complementary: protects another withheld cell")
        #expect(report.row(["neighborhood": "southside"])?.value == 50)
        #expect(!report.total.suppressed && report.total.value == 84)
        let visible = report.rows.compactMap(\.value).reduce(0, +)
        #expect(report.total.value! - visible != 4)
    }

    @Test func smallCountsAreWithheldForCountIndicators() throws {
        let partials = Self.threePartners("northside", "2026-01", [1, 1, 2]) + Self.threePartners("riverside", "2026-01", [5, 5, 5])
            + Self.threePartners("southside", "2026-01", [9, 9, 9])
        let raw = F.report(partials, F.profile(.sum), by: [.neighborhood])
        let counted = Suppression.apply(raw, policy: Self.policy, isCount: true)
        #expect(counted.rows.map(\.suppressionReason) == ["count below 5", "complementary: protects another withheld cell", nil])
        // The same numbers as a score are not counts.
        #expect(Suppression.apply(raw, policy: Self.policy, isCount: false).rows.allSatisfy { !$0.suppressed })
        let stricter = Suppression.apply(raw, policy: SuppressionPolicy(minPartners: 2, minCount: 4.5), isCount: true)
        #expect(stricter.rows[0].suppressionReason == "count below 4.5")
    }

    @Test func aTotalWithTooFewPartnersIsWithheldAndNeedsNoComplement() {
        let partials = [F.raw("a", "northside", "2026-01", 10), F.raw("b", "riverside", "2026-01", 20)]
        let report = Suppression.apply(F.report(partials, F.profile(.sum), by: [.neighborhood]), policy: Self.policy, isCount: false)
        #expect(report.total.suppressed && report.total.value == nil && report.total.suppressionReason == "fewer than 3 partners")
        #expect(report.rows.allSatisfy { $0.suppressionReason == "fewer than 3 partners" })
        // Counts behind a withheld cell stay: they reveal no value.
        #expect(report.total.measurements == 2 && report.total.partners == 2)
    }

    @Test func aLoneWithheldRowWithNothingToPairTakesTheTotalWithIt() {
        var row = Cell(key: ["neighborhood": "northside"])
        row.value = 3
        row.partners = 1
        var total = Cell()
        total.value = 3
        total.partners = 3
        let report = Suppression.apply(Report(rows: [row], total: total), policy: Self.policy, isCount: false)
        #expect(report.rows[0].suppressed && report.total.suppressed && report.total.value == nil)
    }

    /// |           | 2026-01        | 2026-02   |
    /// | northside | 30 (3 partners)| 40        |
    /// | riverside | 2 (1 partner)  | 50        |
    /// One withheld corner forces the smallest other row out, and then each neighborhood and
    /// each month must not be left with a single withheld cell: all four go.
    @Test func slicesOfATwoWayTableAreProtectedToo() {
        let partials = Self.threePartners("northside", "2026-01", [10, 10, 10]) + Self.threePartners("northside", "2026-02", [10, 10, 20])
            + [F.raw("a", "riverside", "2026-01", 2)] + Self.threePartners("riverside", "2026-02", [10, 20, 20])
        let report = Suppression.apply(F.report(partials, F.profile(.sum), by: [.neighborhood, .period]), policy: Self.policy, isCount: false)
        #expect(report.rows.allSatisfy { $0.suppressed })
        #expect(!report.total.suppressed && report.total.value == 122)
    }

    /// Jan 30, Feb 4 (one partner), Mar 36, Apr 40. Feb is withheld, Jan (smallest) protects it,
    /// and March's change (36 − 4) would give February away, so it goes; April's stays.
    @Test func aChangeThatWouldRevealAWithheldPeriodIsDropped() {
        let partials = Self.threePartners("northside", "2026-01", [10, 10, 10]) + [F.raw("a", "northside", "2026-02", 4)]
            + Self.threePartners("northside", "2026-03", [12, 12, 12]) + Self.threePartners("northside", "2026-04", [10, 10, 20])
        let raw = F.report(partials, F.profile(.sum), by: [.period])
        #expect(raw.rows.map(\.change) == [nil, -26, 32, 4])
        let report = Suppression.apply(raw, policy: Self.policy, isCount: false)
        #expect(report.rows.map(\.suppressed) == [true, true, false, false])
        #expect(report.rows.map(\.change) == [nil, nil, nil, 4])
    }

    @Test func nothingIsWithheldWhenEveryCellIsLargeEnough() {
        let partials = Self.threePartners("northside", "2026-01", [10, 10, 10]) + Self.threePartners("riverside", "2026-01", [9, 9, 9])
        let report = F.report(partials, F.profile(.sum), by: [.neighborhood])
        #expect(Suppression.apply(report, policy: Self.policy, isCount: true) == report)
    }

    @Test func randomReportsNeverLeaveALoneWithheldCellBesideAVisibleTotal() async {
        await propertyCheck(input: RandomData.rows, Gen.bool) { rows, isCount in
            let partials = rows.map { $0.partial(for: .sum) }
            for groupings in [[Grouping.neighborhood], [.neighborhood, .period], [.dimension("age_group"), .neighborhood, .period]] {
                let report = Suppression.apply(Fixtures.report(partials, F.profile(.sum), by: groupings), policy: Self.policy, isCount: isCount)
                for cell in report.rows + [report.total] {
                    #expect(cell.suppressed == (cell.value == nil))
                    if !cell.suppressed {
                        #expect(cell.partners >= 3)
                        #expect(!isCount || cell.value! >= 5)
                    }
                }
                guard !report.total.suppressed else { continue }
                #expect(report.rows.filter(\.suppressed).count != 1, "\(groupings)")
                // Nor within any slice of rows that agree on all keys but one.
                for name in groupings.map(\.name) where groupings.count > 1 {
                    let slices = Dictionary(grouping: report.rows) { row in row.key.filter { $0.key != name } }
                    for slice in slices.values where slice.count > 1 {
                        #expect(slice.filter(\.suppressed).count != 1, "\(groupings) slice without \(name)")
                    }
                }
            }
        }
    }
}
