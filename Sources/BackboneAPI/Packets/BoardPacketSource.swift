import Aggregation
import BackboneCore
import Dashboard
import DomainModel
import Foundation
import Postgres

/// Gathers a board packet through the same protected reports the API serves: the
/// coordinator's from live data, the public one as a viewer key reads it (releases where
/// they exist, small cells withheld). Nothing here reads aggregates around them.
enum BoardPacketSource {
    /// What every page of one packet shares.
    struct Shared: Sendable {
        let agenda: String
        let period: Period
        let audience: BoardPacket.Audience
        let neighborhoodNames: [String: String]
        let partnerNames: [String: String]
        let today: Day
        /// The agenda's completeness report for each indicator's reporting period, read once per period.
        let completeness: [Period: CompletenessReport]

        var reportAudience: Reports.Audience {
            audience == .coordinator ? .coordinator : .published(partner: nil)
        }
    }

    /// The oldest standing flags a page lists (the count covers them all).
    static let listedFlags = 5

    /// The packet of `agenda` for `period`, its indicators' pages gathered `parallel` at a
    /// time, each on a pooled connection of its own; `unknownAgenda` is thrown when there is
    /// no such agenda (a missing page by default; a publication's body names it as a field).
    static func packet(
        _ pool: ConnectionPool, agenda id: String, period: Period, audience: BoardPacket.Audience, parallel: Int,
        unknownAgenda: DomainError? = nil
    ) async throws -> BoardPacket {
        let (agenda, indicators, shared) = try await database(pool, transaction: false) { connection in
            guard let agenda = try RegistryStore<Agenda>().find(connection, key: id) else {
                throw unknownAgenda ?? DomainError.notFound("No agenda \(id).")
            }
            let indicators = try IndicatorStore.list(connection, activeIn: id)
            var completeness: [Period: CompletenessReport] = [:]
            for own in Set(indicators.compactMap { period.lastPeriod(of: $0.profile.periodType) }) {
                completeness[own] = try Reports.completeness(connection, agenda: id, period: own)
            }
            let shared = Shared(
                agenda: id, period: period, audience: audience,
                neighborhoodNames: try DashboardSource.names(connection, Neighborhood.self, name: \.name),
                partnerNames: try DashboardSource.names(connection, Partner.self, name: \.name), today: Period.today(),
                completeness: completeness)
            let model = DashboardModel.Agenda(id: agenda.id, name: agenda.name, vision: agenda.vision)
            return (model, indicators, shared)
        }
        let pages = try await inParallel(indicators.count, atMost: parallel) { index in
            try await database(pool, transaction: false) { connection in
                try page(connection, indicators[index], shared: shared)
            }
        }
        return BoardPacket(agenda: agenda, period: period, audience: audience, pages: pages)
    }

    /// One indicator's page: its series up to the packet's period, the line it gives, the
    /// neighborhoods of the latest period, the words around it, completeness and flags.
    static func page(_ connection: Connection, _ info: Indicator, shared: Shared) throws -> BoardPacket.Page {
        let series = try Reports.indicator(
            connection, code: info.code, request: ReportRequest(groupings: [.period]),
            range: Reports.PeriodRange(from: nil, to: shared.period), audience: shared.reportAudience
        ).report.rows.filter { cell in
            // A coarser period still running at the packet's end is not over yet: not shown.
            cell.key["period"].flatMap(Period.init).map { $0.end <= shared.period.end } ?? false
        }
        let line = Reports.scorecardLine(info, rows: series)
        var panel = try DashboardSource.panel(
            connection, line: line, series: series, audience: shared.reportAudience, names: shared.neighborhoodNames)
        try foldForPaper(connection, &panel, audience: shared.reportAudience)
        let own = shared.period.lastPeriod(of: info.profile.periodType)
        var page = BoardPacket.Page(panel: panel, period: own)
        guard let own else { return page }
        try addNarrative(connection, to: &page, period: own, shared: shared)
        let entries = (shared.completeness[own]?.entries ?? []).filter { $0.indicator == info.code }
        if !entries.isEmpty {
            let missing = Set(entries.filter { !$0.reported }.map(\.partner)).sorted()
            page.completeness = BoardPacket.Completeness(
                period: own, committed: entries.count, reported: entries.filter(\.reported).count,
                missing: shared.audience == .coordinator ? missing.map { shared.partnerNames[$0] ?? $0 } : nil)
        }
        if shared.audience == .coordinator {
            var filter = QualityFlags.Filter()
            filter.indicator = info.code
            filter.to = shared.period
            filter.standingOnly = true
            let flags = try QualityFlags.list(connection, filter: filter, after: nil, limit: listedFlags)
            page.openFlags = BoardPacket.OpenFlags(
                total: flags.total, oldest: flags.items.map(DashboardSource.panelLine))
        }
        return page
    }

    /// The most bars an equity chart shows on paper.
    static let maxBars = 16

    /// An equity chart of more than `maxBars` neighborhoods is unreadable at a third of a
    /// page: it is drawn at the finest level of the tree that has at most that many (and says so).
    static func foldForPaper(_ connection: Connection, _ panel: inout IndicatorPanel, audience: Reports.Audience)
        throws
    {
        guard panel.neighborhoods.count > maxBars, let latest = panel.line.latestPeriod else { return }
        let tree = try ReportSource.tree(connection)
        let shown = panel.neighborhoods.compactMap { tree.depth(of: $0.neighborhood) }.max() ?? 0
        for depth in stride(from: shown - 1, through: 0, by: -1) {
            panel.neighborhoods = try Reports.equity(
                connection, code: panel.line.indicator.code, period: latest, depth: depth, audience: audience
            ).1
            panel.neighborhoodLevel = depth
            panel.neighborhoodLevelReason = "more neighborhoods than a printed page can show"
            if panel.neighborhoods.count <= maxBars { return }
        }
    }

    /// The story in force, quoted contributions and actions of the page's indicator.
    static func addNarrative(
        _ connection: Connection, to page: inout BoardPacket.Page, period: Period, shared: Shared
    ) throws {
        let code = page.panel.line.indicator.code
        page.story = try Stories.inForce(connection, indicator: code, period: period).map { story in
            BoardPacket.Story(
                writtenFor: story.writtenFor, stale: story.isStale(for: period),
                storyBehindTheCurve: story.storyBehindTheCurve, partners: story.partners, whatWorks: story.whatWorks,
                actionPlan: story.actionPlan, savedAt: DashboardSource.moment(story.savedAt))
        }
        // The packet's period in the indicator's own periods (a quarter's months), or the
        // indicator's period when it is the longer one.
        let quoted = try Contributions.quoted(
            connection, indicator: code, from: min(period.start, shared.period.start), until: shared.period.end)
        page.quotes = quoted.map { quote in
            BoardPacket.Quote(
                partner: quote.partner, partnerName: shared.partnerNames[quote.partner] ?? quote.partner,
                period: quote.period, text: quote.text)
        }
        page.actions = try Actions.of(connection, indicator: code).map { action in
            BoardPacket.Action(
                id: action.id, title: action.title, owner: action.owner,
                ownerName: shared.partnerNames[action.owner] ?? action.owner, due: action.due,
                status: action.status.rawValue, overdue: action.isOverdue(today: shared.today), note: action.note)
        }
    }
}
