import Aggregation
import PropertyBased
import Testing

@Suite("Aggregation properties over random data")
struct AggregatorPropertyTests {
    typealias R = RandomData

    @Test func sumRowsAddUpToTheTotalForEveryBreakdown() async {
        await propertyCheck(input: R.rows) { rows in
            let partials = rows.map { $0.partial(for: .sum) }
            let breakdowns: [([Grouping], Int?)] = [
                ([.neighborhood], nil), ([.neighborhood], 1), ([.dimension("age_group")], nil),
                ([.neighborhood, .period], nil), ([.partner, .dimension("age_group")], nil),
            ]
            for (groupings, depth) in breakdowns {
                let report = Fixtures.report(partials, R.profile(.sum), by: groupings, depth: depth)
                #expect(report.rows.compactMap(\.value).reduce(0, +) == report.total.value, "\(groupings)")
                #expect(report.rows.map(\.measurements).reduce(0, +) == report.total.measurements)
            }
        }
    }

    @Test func aQuarterEqualsItsMonthsCombined() async {
        await propertyCheck(input: R.rows) { rows in
            for method in R.mergeableMethods {
                let profile = R.profile(method)
                let partials = rows.map { $0.partial(for: method) }
                let report = Fixtures.report(partials, profile, by: [.period], periodType: .quarter)
                // Each month's cell as one partial, then the months of a quarter merged.
                let months = R.merged(partials) { $0.period }
                let quarters = R.merged(Array(months.values)) { $0.period.rolled(to: .quarter) }
                #expect(report.rows.map { $0.key["period"]! } == quarters.keys.sorted().map(\.description))
                for row in report.rows {
                    let quarter = quarters[Period(row.key["period"]!)!]!
                    #expect(
                        isClose(row.value, R.value(of: quarter, method: method, scale: profile.scale)),
                        "\(method) \(row.key)")
                    #expect(row.measurements == quarter.count && row.partners == quarter.partners.count)
                }
            }
        }
    }

    @Test func rollupsGiveTheSameReportAsRawRows() async {
        await propertyCheck(input: R.rows) { rows in
            for method in R.mergeableMethods {
                let profile = R.profile(method)
                let raw = rows.map { $0.partial(for: method) }
                struct Key: Hashable { var neighborhood: String; var period: Period; var dimensions: [String: String] }
                // Merged in the opposite order, and without partner.
                let rollups = R.merged(raw.reversed()) {
                    Key(neighborhood: $0.neighborhood, period: $0.period, dimensions: $0.dimensions)
                }
                .values.map { rollup -> Partial in
                    var rollup = rollup
                    rollup.partner = nil
                    return rollup
                }
                let requests: [ReportRequest] = [
                    ReportRequest(), ReportRequest(groupings: [.neighborhood]),
                    ReportRequest(groupings: [.neighborhood], neighborhoodDepth: 0),
                    ReportRequest(groupings: [.period], periodType: .quarter),
                    ReportRequest(groupings: [.dimension("age_group"), .period], within: "north"),
                ]
                for request in requests {
                    let expected = Aggregator.report(raw, profile: profile, request: request, tree: Fixtures.tree)
                    let actual = Aggregator.report(rollups, profile: profile, request: request, tree: Fixtures.tree)
                    #expect(actual.rows.map(\.key) == expected.rows.map(\.key))
                    for (a, e) in zip(actual.rows + [actual.total], expected.rows + [expected.total]) {
                        #expect(Self.sameNumbers(a, e), "\(method) \(request.groupings) \(e.key)")
                    }
                }
            }
        }
    }

    @Test func mergingIsOrderIndependent() async {
        await propertyCheck(input: R.rows) { rows in
            let partials = rows.map { $0.partial(for: .ratio) }
            let forward = partials.dropFirst().reduce(partials[0]) { $0.merging($1) }
            let backward = partials.reversed().dropFirst().reduce(partials.last!) { $0.merging($1) }
            let halves = partials.count / 2
            let split =
                partials.count < 2
                ? forward
                : partials[..<halves].dropFirst().reduce(partials[0]) { $0.merging($1) }
                    .merging(partials[halves...].dropFirst().reduce(partials[halves]) { $0.merging($1) })
            for other in [backward, split] {
                #expect(other.count == forward.count && other.partners == forward.partners)
                #expect(other.sumNumerator == forward.sumNumerator && other.sumDenominator == forward.sumDenominator)
                #expect(other.min == forward.min && other.max == forward.max && isClose(other.sum, forward.sum))
                #expect(other.values?.sorted() == forward.values?.sorted())
            }
        }
    }

    static func sameNumbers(_ a: Cell, _ e: Cell) -> Bool {
        a.key == e.key && a.measurements == e.measurements && a.partners == e.partners && a.partnerIDs == e.partnerIDs
            && isClose(a.value, e.value) && isClose(a.min, e.min) && isClose(a.max, e.max) && isClose(a.mean, e.mean)
            && isClose(a.median, e.median) && isClose(a.per1000, e.per1000)
    }
}
