import Aggregation
import DomainModel
import Foundation
import Postgres

extension Reports {
    /// For every active indicator of the agenda: the latest community-wide value, the one
    /// before, the trend, baseline, target, progress, and whether the pace reaches the target.
    /// Partner and viewer keys read releases: the latest period is the latest released one.
    /// `only` limits it to one indicator of the agenda (a line is the same either way).
    public static func scorecard(_ connection: Connection, agenda: String, only: String? = nil, audience: Audience)
        throws -> [ScorecardLine]
    {
        guard try !connection.query("SELECT 1 FROM agendas WHERE id = \(agenda)").isEmpty else {
            throw DomainError.notFound("No agenda \(agenda).")
        }
        let tree = try ReportSource.tree(connection)
        let partners = ReportSource.PartnerDirectory()
        let openFlags = audience == .coordinator ? try OpenFlags.byIndicator(connection, agenda: agenda) : nil
        return try IndicatorStore.list(connection, activeIn: agenda).filter { only == nil || $0.code == only }.map {
            info in
            // Only the periods the scorecard shows are read: the latest with data, the one
            // before it, and (without a baseline) the first, which anchors the pace.
            let request = ReportRequest(groupings: [.period])
            var byPeriod = Report(rows: [], total: Cell())
            switch audience {
            case .coordinator:
                let bounds = try ReportSource.periodBounds(connection, indicator: info.code)
                var partials: [Partial] = []
                for (from, until) in shownRanges(bounds, baseline: info.profile.baseline != nil) {
                    partials += try ReportSource.partials(
                        connection, indicator: info, from: from, until: until, raw: false, partners: partners)
                }
                byPeriod = Aggregator.report(partials, profile: info.profile, request: request, tree: tree)
            case .published(let partner):
                let bounds = try Releases.periodBounds(connection, indicator: info.code)
                var published: [Releases.Published] = []
                for (from, until) in shownRanges(bounds, baseline: info.profile.baseline != nil) {
                    published.append(
                        try Releases.published(
                            connection, indicator: info, from: from, until: until, tree: tree, partners: partners))
                }
                var withheld = WithheldCells()
                for part in published { withheld.formUnion(part.withheld) }
                byPeriod = Suppression.apply(
                    Aggregator.report(
                        published.flatMap(\.partials), profile: info.profile, request: request, tree: tree),
                    withheld: withheld, request: request, tree: tree, method: info.profile.method,
                    reader: .init(partner: partner))
            }
            var line = scorecardLine(info, rows: byPeriod.rows)
            line.openFlags = openFlags.map { $0[info.code] ?? 0 }
            return line
        }
    }

    /// An indicator's scorecard line from its by-period rows (oldest first): the latest row,
    /// the one of the period before it, the trend, and the pace from the baseline (else the
    /// first row) to the target.
    public static func scorecardLine(_ info: Indicator, rows: [Cell]) -> ScorecardLine {
        var line = ScorecardLine(indicator: info)
        guard let latest = rows.last else { return line }
        line.latest = latest
        line.latestPeriod = latest.key["period"].flatMap(Period.init)
        line.previousPeriod = line.latestPeriod?.previous
        line.previous = rows.first { $0.key["period"] == line.previousPeriod?.description }
        if let now = latest.value, let before = line.previous?.value {
            line.trend = now > before ? "up" : now < before ? "down" : "flat"
            line.improving = now == before ? nil : (now > before) == info.profile.increaseIsBetter
        }
        if let now = latest.value, let period = line.latestPeriod, let target = info.profile.target {
            let start =
                info.profile.baseline.map { ($0.period, $0.value) }
                ?? rows.first.flatMap { first in
                    first.value.flatMap { value in first.key["period"].flatMap(Period.init).map { ($0, value) } }
                }
            if let (startPeriod, startValue) = start {
                let elapsed = Double(Period.count(from: startPeriod, to: period, in: info.profile.periodType))
                let remaining = Double(Period.count(from: period, to: target.period, in: info.profile.periodType))
                if elapsed > 0 {
                    // A straight line through the start and now, continued to the target period and
                    // kept inside the values the indicator can take (a count never goes below 0).
                    let straight = now + (now - startValue) / elapsed * max(remaining, 0)
                    let projected = min(max(straight, info.validRange.lowerBound), info.validRange.upperBound)
                    line.projected = projected
                    line.onTrack =
                        info.profile.increaseIsBetter ? projected >= target.value : projected <= target.value
                }
            }
        }
        return line
    }

    /// The ranges a scorecard line reads: the latest period and the one before it, and the
    /// first period when there is no baseline to anchor the pace.
    private static func shownRanges(_ bounds: (first: Period?, latest: Period?), baseline: Bool) -> [(Day, Day)] {
        guard let latest = bounds.latest else { return [] }
        let from = latest.previous ?? latest
        var ranges = [(from.start, latest.end)]
        if !baseline, let first = bounds.first, first < from { ranges.append((first.start, first.end)) }
        return ranges
    }
}
