import Aggregation
import DomainModel
import Foundation
import Postgres

extension Reports {
    /// Targeted universalism: every neighborhood's value for `period` against the
    /// indicator's one target, ranked by gap (largest first), with the population each concerns.
    /// Counts, totals and stocks compare rates per 1,000 residents, never a neighborhood's
    /// count with a community total (`EquityComparison`); a line without a gap says why.
    public static func equity(
        _ connection: Connection, code: String, period: Period, depth: Int?, audience: Audience
    ) throws -> (Indicator, [EquityLine], releases: [Release.Stamp]?) {
        guard let native = try IndicatorStore.find(connection, code: code)?.profile.periodType else {
            throw DomainError.notFound("No indicator \(code).")
        }
        let request = ReportRequest(
            groupings: [.neighborhood], periodType: period.type > native ? period.type : nil, neighborhoodDepth: depth)
        let answer = try indicator(
            connection, code: code, request: request, range: PeriodRange(from: period, to: period), audience: audience)
        let (info, report) = (answer.indicator, answer.report)
        let tree = try ReportSource.tree(connection)
        let comparison = EquityComparison(info.profile, communityPopulation: tree.communityPopulation)
        let lines = report.rows.compactMap { cell -> EquityLine? in
            guard let code = cell.key["neighborhood"] else { return nil }
            let population = tree.population(of: code)
            var line = EquityLine(
                neighborhood: code, population: population, cell: cell, gap: nil, comparison: comparison)
            line.gapReason = gapReason(of: cell, population: population, target: info.profile.target?.value, comparison)
            if line.gapReason == nil, let figure = line.comparedFigure,
                let target = comparison.comparedTarget(info.profile.target?.value)
            {
                line.gap = info.profile.increaseIsBetter ? target - figure : figure - target
            }
            return line
        }
        // Largest gap first; rows without a gap (each says why) after them in code
        // order, so a withheld row's place says nothing about its value.
        let ranked = lines.sorted { lhs, rhs in
            switch (lhs.gap, rhs.gap) {
            case (let left?, let right?): return (left, rhs.neighborhood) > (right, lhs.neighborhood)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return lhs.neighborhood < rhs.neighborhood
            }
        }
        return (info, ranked, answer.releases)
    }

    /// Why a line cannot have a gap, if it cannot: checked in this order, so a withheld
    /// line's reason says nothing about its value or its population.
    static func gapReason(of cell: Cell, population: Int?, target: Double?, _ comparison: EquityComparison)
        -> EquityLine.GapReason?
    {
        if cell.suppressed { return .withheld }
        guard target != nil else { return .noTarget }
        guard cell.value != nil else { return .noValue }
        guard comparison.comparesRates else { return nil }
        guard comparison.comparedTarget(target) != nil else { return .noCommunityPopulation }
        guard let population, population > 0, cell.per1000 != nil else { return .noPopulation }
        return nil
    }
}
