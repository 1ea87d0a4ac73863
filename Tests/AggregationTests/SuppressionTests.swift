import Aggregation
import PropertyBased
import Testing

@Suite("Small-cell protection across linked reports")
struct SuppressionTests {
    typealias F = Fixtures
    static let policy = SuppressionPolicy()

    /// A report as a viewer sees it once every period of `partials` (raw measurements) is
    /// released: each period's grid protected as a release protects it.
    static func viewer(
        _ partials: [Partial], _ profile: IndicatorProfile = F.profile(.sum), by groupings: [Grouping] = [],
        periodType: PeriodType? = nil, depth: Int? = nil, within: String? = nil, partner: String? = nil,
        policy: SuppressionPolicy = policy
    ) -> Report {
        let request = ReportRequest(
            groupings: groupings, periodType: periodType, neighborhoodDepth: depth, within: within)
        return Suppression.apply(
            Aggregator.report(partials, profile: profile, request: request, tree: F.tree),
            withheld: released(partials, profile, policy: policy), request: request, tree: F.tree,
            method: profile.method,
            reader: .init(partner: partner))
    }

    /// The withheld cells of releases of every period of `partials`.
    static func released(_ partials: [Partial], _ profile: IndicatorProfile, policy: SuppressionPolicy = policy)
        -> WithheldCells
    {
        var withheld = WithheldCells()
        for (period, members) in Dictionary(grouping: partials, by: \.period) {
            let cells = ProtectedCells(
                contributions: ProtectedCells.Contribution.of(members), tree: F.tree, policy: policy,
                rules: .init(
                    isCount: profile.isCount, isRatio: profile.method == .ratio,
                    range: 0...Double.greatestFiniteMagnitude))
            withheld.add(period, withheld: WithheldCells.withAliases(cells.withheld, tree: F.tree), treeMatches: true)
        }
        return withheld
    }

    /// `values` from partners a, b, c… for one neighborhood and month.
    static func partners(_ neighborhood: String, _ period: String, _ values: [Double]) -> [Partial] {
        zip(["a", "b", "c", "d", "e"], values).map { F.raw($0, neighborhood, period, $1) }
    }

    /// The setup: partner pd alone in riverside in 2026-05 with 7; northside and
    /// southside well covered. Before, the district row minus northside gave riverside away,
    /// and so did the `within` total and the 2-month total minus June.
    static let differencing =
        partners("northside", "2026-05", [20, 20, 20]) + [F.raw("pd", "riverside", "2026-05", 7)]
        + partners("southside", "2026-05", [21, 21, 21]) + partners("riverside", "2026-06", [6, 6, 7])
        + partners("northside", "2026-06", [20, 20, 20]) + partners("southside", "2026-06", [20, 20, 20])

    @Test func aWithheldCellCannotBeHadBySubtractingAcrossLevelsWithinsOrPeriods() throws {
        let may = [Partial](Self.differencing.filter { $0.period == F.period("2026-05") })
        let leaves = Self.viewer(may, by: [.neighborhood])
        #expect(leaves.row(["neighborhood": "riverside"])?.suppressed == true)
        let districts = Self.viewer(may, by: [.neighborhood], depth: 1)
        let within = Self.viewer(may, by: [.neighborhood], within: "north")
        // north = northside + riverside: with riverside withheld, one of the two others must go.
        let north = districts.row(["neighborhood": "north"])?.value ?? within.total.value
        let northside = leaves.row(["neighborhood": "northside"])?.value
        #expect(
            north == nil || northside == nil, "north \(String(describing: north)) − northside would be riverside's 7")
        #expect(within.total.value == north)

        // Across periods: the two-month total of riverside minus its June.
        let byPeriod = Self.viewer(Self.differencing, by: [.period], within: "riverside")
        let june = Self.viewer(Self.differencing.filter { $0.period == F.period("2026-06") }, by: [.neighborhood])
            .row(["neighborhood": "riverside"])
        #expect(june?.value == 19)
        #expect(byPeriod.total.value == nil, "the total over May and June minus June's 19 would be May's 7")
        #expect(byPeriod.total.suppressed && byPeriod.rows.first?.suppressed == true)
    }

    @Test func theMinimumMaximumAndMedianAreNeverShownAndWithheldCellsCountNobody() throws {
        // southside's lone 4 takes south with it, so north goes too (city − north = south), and
        // riverside, north's smallest part, protects north.
        let report = Self.viewer(
            Self.partners("northside", "2026-01", [10, 20, 30]) + Self.partners("riverside", "2026-01", [10, 10, 10])
                + [F.raw("a", "southside", "2026-01", 4)],
            by: [.neighborhood])
        #expect(report.row(["neighborhood": "riverside"])?.suppressed == true)
        let northside = try #require(report.row(["neighborhood": "northside"]))
        #expect(!northside.suppressed && northside.value == 60)
        #expect(northside.min == nil && northside.max == nil && northside.median == nil)
        let southside = try #require(report.row(["neighborhood": "southside"]))
        #expect(southside.suppressed && southside.measurements == 0 && southside.partners == 0)
    }

    @Test func aCellDominatedByOnePartnerIsWithheld() throws {
        // a has 90 of 100: the total is nearly a's own number.
        let dominated = Self.viewer(Self.partners("northside", "2026-01", [90, 5, 5]), by: [.neighborhood])
        #expect(dominated.rows[0].suppressed)
        // 50, 40, 3: b knows its 40 and learns a's 50 to within 3, under the 10% margin of 5.
        let estimable = Self.viewer(Self.partners("northside", "2026-01", [50, 40, 3]), by: [.neighborhood])
        #expect(estimable.rows[0].suppressed)
        // 50, 40, 10 leaves b an interval of ±10 around a's 50.
        #expect(
            !Self.viewer(Self.partners("northside", "2026-01", [50, 40, 10]), by: [.neighborhood]).rows[0].suppressed)
    }

    @Test func smallCountsAreWithheldForCountIndicatorsOnly() {
        let partials =
            Self.partners("northside", "2026-01", [1, 1, 2]) + Self.partners("riverside", "2026-01", [5, 5, 5])
            + Self.partners("southside", "2026-01", [9, 9, 9])
        let counts = IndicatorProfile(method: .sum, isCount: true, periodType: .month)
        let counted = Self.viewer(
            partials, counts, by: [.neighborhood], policy: SuppressionPolicy(protectionMinimum: 0))
        #expect(counted.row(["neighborhood": "northside"])?.suppressed == true)
        let scores = Self.viewer(partials, by: [.neighborhood], policy: SuppressionPolicy(protectionMinimum: 0))
        #expect(scores.row(["neighborhood": "northside"])?.suppressed == false)
    }

    @Test func aPartnerSeesItsOwnRowsAndNoOtherPartnerIsListed() throws {
        let partials = Self.partners("northside", "2026-01", [10, 20, 30])
        let report = Self.viewer(partials, by: [.partner], partner: "b")
        #expect(report.rows.map { $0.key["partner"] } == ["b"])
        #expect(report.row(["partner": "b"])?.value == 20)
        #expect(report.total.value == 60)
        #expect(Self.viewer(partials, by: [.partner]).rows.isEmpty)
    }

    @Test func aStockOverSeveralPeriodsIsShownOnlyWhenEverySeriesIsCurrent() {
        let stock = F.profile(.last)
        let current =
            Self.partners("northside", "2026-01", [10, 10, 10]) + Self.partners("northside", "2026-02", [12, 12, 12])
        #expect(Self.viewer(current, stock, by: [.neighborhood]).rows[0].value == 36)
        // c stopped in January: the range's value minus February's would be c's 10.
        let stale = current.filter { !($0.partner == "c" && $0.period == F.period("2026-02")) }
        #expect(Self.viewer(stale, stock, by: [.neighborhood]).rows[0].suppressed)
    }

    /// The grid's promise, on random deployments: in every report shape a viewer can ask for,
    /// a visible total is never the sum of visible rows plus exactly one withheld row.
    @Test func randomDeploymentsNeverLeaveALoneWithheldRowBesideAVisibleTotal() async {
        await propertyCheck(input: RandomData.rows) { rows in
            let partials = rows.map { $0.partial(for: .sum) }
            let shapes: [(groupings: [Grouping], depth: Int?, within: String?)] = [
                ([.neighborhood], nil, nil), ([.neighborhood], 1, nil), ([.neighborhood], 2, nil),
                ([.neighborhood], 2, "north"),
                ([.dimension("age_group")], nil, nil), ([.dimension("age_group")], nil, "north"),
                ([.period], nil, "northside"),
                ([.neighborhood, .dimension("age_group")], 2, nil),
            ]
            for shape in shapes {
                for month in 1...6 {
                    let single = partials.filter { $0.period.index == month }
                    guard !single.isEmpty else { continue }
                    let report = Self.viewer(single, by: shape.groupings, depth: shape.depth, within: shape.within)
                    for cell in report.rows + [report.total] where !cell.suppressed && cell.measurements > 0 {
                        #expect(cell.partners >= 3 && cell.min == nil)
                    }
                    guard !report.total.suppressed, shape.groupings.count == 1 else { continue }
                    #expect(report.rows.filter(\.suppressed).count != 1, "\(shape) in month \(month): \(rows)")
                }
            }
        }
    }
}
