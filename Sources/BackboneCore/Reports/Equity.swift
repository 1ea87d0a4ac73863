import Aggregation
import DomainModel
import Foundation
import Postgres

extension Reports {
    /// Targeted universalism: every neighborhood's value for `period` against the
    /// indicator's one target, ranked by gap (largest first), with the population each concerns.
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
        let target = info.profile.target?.value
        let lines = report.rows.compactMap { cell -> EquityLine? in
            guard let code = cell.key["neighborhood"] else { return nil }
            var gap: Double?
            if let target, let value = cell.value {
                gap = info.profile.increaseIsBetter ? target - value : value - target
            }
            return EquityLine(neighborhood: code, population: tree.population(of: code), cell: cell, gap: gap)
        }
        // Largest gap first; rows without a gap (withheld, or no target) after them in code
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
}
