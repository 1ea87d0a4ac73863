import Aggregation
import BackboneCore
import Dashboard
import DomainModel
import Foundation
import Postgres
import UTCTime

/// Gathers what the dashboard draws, only through the reports the API serves
/// (`Reports.scorecard`, `.indicator`, `.equity`, `.completeness`) for the caller's
/// audience, plus registry names. Nothing here reads aggregates around them.
enum DashboardSource {
    static func agendas(_ connection: Connection) throws -> [DashboardModel.Agenda] {
        try all(connection, Agenda.self).filter(\.active).map {
            DashboardModel.Agenda(id: $0.id, name: $0.name, vision: $0.vision)
        }
    }

    /// Key → name of every record of a registry resource (neighborhoods, partners).
    static func names<Record: RegistryRecord>(_ connection: Connection, _: Record.Type, name: KeyPath<Record, String>)
        throws -> [String: String]
    {
        Dictionary(
            try all(connection, Record.self).map { ($0.key, $0[keyPath: name]) },
            uniquingKeysWith: { first, _ in first })
    }

    /// Every record of a registry resource, in key order.
    private static func all<Record: RegistryRecord>(_ connection: Connection, _: Record.Type) throws -> [Record] {
        let store = RegistryStore<Record>()
        var records: [Record] = []
        var cursor: String?
        repeat {
            let page = try store.list(connection, filters: [:], cursor: cursor, limit: 1000)
            records += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return records
    }

    /// The page's model. The indicators' panels are gathered `parallel` at a time, each on a
    /// pooled connection of its own.
    static func model(
        _ pool: ConnectionPool, agenda: DashboardModel.Agenda, agendas: [DashboardModel.Agenda], role: Role,
        partner: String?,
        audience: Reports.Audience, completenessColumns: Int?, parallel: Int
    ) async throws -> DashboardModel {
        let (lines, neighborhoodNames, partnerNames) = try await database(pool, transaction: false) { connection in
            let neighborhoodNames = try names(connection, Neighborhood.self, name: \.name)
            let partnerNames = try names(connection, Partner.self, name: \.name)
            let lines = try Reports.scorecard(connection, agenda: agenda.id, audience: audience)
            return (lines, neighborhoodNames, partnerNames)
        }
        // The completeness grid (the coordinator's) is read alongside the panels.
        async let grid = completenessColumns.asyncMap { columns in
            try await database(pool, transaction: false) { connection in
                try completenessGrid(
                    connection, agenda: agenda.id, lines: lines, columns: columns, names: partnerNames)
            }
        }
        let panels = try await inParallel(lines.count, atMost: parallel) { index in
            try await database(pool, transaction: false) { connection in
                try DashboardSource.panel(connection, line: lines[index], audience: audience, names: neighborhoodNames)
            }
        }
        let dashboardAudience: DashboardModel.Audience =
            switch role {
            case .coordinator: .coordinator
            case .partner: .partner
            case .viewer: .viewer
            }
        let indicatorNames = Dictionary(
            lines.map { ($0.indicator.code, $0.indicator.name) }, uniquingKeysWith: { first, _ in first })
        let quality =
            role == .viewer
            ? nil
            : try await database(pool, transaction: false) { connection in
                try qualityPanel(
                    connection, agenda: agenda.id, partner: partner, partnerNames: partnerNames,
                    indicatorNames: indicatorNames)
            }
        return DashboardModel(
            agenda: agenda, agendas: agendas, audience: dashboardAudience,
            partnerName: partner.map { partnerNames[$0] ?? $0 },
            indicators: panels, completeness: try await grid, quality: quality)
    }

    /// The agenda's standing flags, oldest first: every partner's, or `partner`'s own.
    static func qualityPanel(
        _ connection: Connection, agenda: String, partner: String?, partnerNames: [String: String],
        indicatorNames: [String: String]
    ) throws -> QualityPanel {
        var filter = QualityFlags.Filter()
        filter.agenda = agenda
        filter.partner = partner
        filter.standingOnly = true
        let page = try QualityFlags.list(connection, filter: filter, after: nil, limit: QualityPanel.listed)
        let counts = try QualityFlags.standingCounts(connection, filter: filter).map {
            QualityPanel.Count(partner: $0.partner, indicator: $0.indicator, count: $0.count)
        }
        return QualityPanel(
            lines: page.items.map(panelLine), counts: counts, total: page.total, partnerNames: partnerNames,
            indicatorNames: indicatorNames)
    }

    static func panelLine(_ flag: QualityFlag) -> QualityPanel.Line {
        QualityPanel.Line(
            id: flag.id, partner: flag.partner, indicator: flag.indicator, neighborhood: flag.neighborhood,
            period: flag.period, kind: flag.kind.rawValue, message: flag.message, status: flag.status.rawValue,
            opened: String(moment(flag.openedAt).prefix(10)))
    }

    /// A moment as responses write it (`2026-11-25T23:43:01Z`).
    static func moment(_ date: Date) -> String {
        UTCTimestamp.string(seconds: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    /// One flag's page: nil when there is no such flag, or it is another partner's.
    static func flagDetail(_ connection: Connection, id: Int, partner: String?) throws -> FlagPage.Detail? {
        guard let flag = try QualityFlags.find(connection, id: id, visibleTo: partner) else { return nil }
        let partnerNames = try names(connection, Partner.self, name: \.name)
        guard let indicator = try IndicatorStore.find(connection, code: flag.indicator) else { return nil }
        func written(_ value: Double?, _ numerator: Double?, _ denominator: Double?) -> String {
            if let value { return Format.number(value) }
            guard let numerator, let denominator else { return "" }
            return "\(Format.number(numerator)) / \(Format.number(denominator))"
        }
        let series = try QualityFlags.series(connection, of: flag)
        let changes = try MeasurementRecords.history(connection, id: flag.measurement, visibleTo: partner)
        let current = series.last { $0.period == flag.period }
        return FlagPage.Detail(
            line: panelLine(flag), partnerName: partnerNames[flag.partner] ?? flag.partner,
            indicatorName: indicator.name,
            value: current.map { written($0.value, $0.numerator, $0.denominator) },
            expected: flag.expected.map { "\(Format.number($0.lowerBound)) to \(Format.number($0.upperBound))" },
            score: flag.score.map { Format.number($0) }, note: flag.note,
            trail: flag.history.map {
                ($0.status.rawValue, $0.note, $0.key ?? "service", moment($0.at))
            },
            changes: changes.map {
                let before = $0.old.map { written($0.value, $0.numerator, $0.denominator) } ?? ""
                let after = $0.new.map { written($0.value, $0.numerator, $0.denominator) } ?? ""
                return ($0.action, moment($0.at), $0.key, before, after)
            },
            series: series.map { ($0.period, written($0.value, $0.numerator, $0.denominator)) })
    }

    /// One indicator's panel, for a chart at its own URL.
    static func panel(_ connection: Connection, code: String, audience: Reports.Audience) throws -> IndicatorPanel {
        guard let info = try IndicatorStore.find(connection, code: code) else {
            throw DomainError.notFound("No indicator \(code).")
        }
        let lines = try Reports.scorecard(connection, agenda: info.agenda, only: code, audience: audience)
        guard let line = lines.first(where: { $0.indicator.code == code }) else {
            throw DomainError.notFound("Indicator \(code) is not active.")
        }
        return try panel(
            connection, line: line, audience: audience, names: try names(connection, Neighborhood.self, name: \.name))
    }

    static func panel(
        _ connection: Connection, line: ScorecardLine, audience: Reports.Audience, names: [String: String]
    ) throws -> IndicatorPanel {
        let series = try Reports.indicator(
            connection, code: line.indicator.code, request: ReportRequest(groupings: [.period]),
            range: Reports.PeriodRange(from: nil, to: nil), audience: audience
        ).report
        return try panel(connection, line: line, series: series.rows, audience: audience, names: names)
    }

    /// A panel for a series already read (by period, oldest first): adds the neighborhoods
    /// of the line's latest period.
    static func panel(
        _ connection: Connection, line: ScorecardLine, series: [Cell], audience: Reports.Audience,
        names: [String: String]
    ) throws -> IndicatorPanel {
        let code = line.indicator.code
        var neighborhoods: [EquityLine] = []
        var level: Int?
        if let latest = line.latestPeriod {
            neighborhoods = try Reports.equity(connection, code: code, period: latest, depth: nil, audience: audience).1
            // A chart that hatches most of its bars helps nobody: partners and viewers get the
            // finest level of the tree where most neighborhoods' figures are shown.
            if audience != .coordinator, Self.mostlyWithheld(neighborhoods) {
                let tree = try ReportSource.tree(connection)
                let deepest = names.keys.compactMap { tree.depth(of: $0) }.max() ?? 0
                for depth in stride(from: deepest - 1, through: 0, by: -1) {
                    let coarser = try Reports.equity(
                        connection, code: code, period: latest, depth: depth, audience: audience
                    ).1
                    (neighborhoods, level) = (coarser, depth)
                    if !Self.mostlyWithheld(coarser) { break }
                }
            }
        }
        return IndicatorPanel(
            line: line, series: series, neighborhoods: neighborhoods, neighborhoodNames: names,
            neighborhoodLevel: level)
    }

    /// Whether more than half of `lines` are withheld.
    static func mostlyWithheld(_ lines: [EquityLine]) -> Bool {
        lines.filter(\.cell.suppressed).count * 2 > lines.count
    }

    /// The last `columns` periods up to today's, of the coarsest period type the agenda's
    /// indicators use (weeks shown as months); late after the agenda's `reporting_due_days`.
    static func completenessGrid(
        _ connection: Connection, agenda: String, lines: [ScorecardLine], columns: Int, names: [String: String]
    ) throws -> CompletenessGrid {
        let graceDays = try Expected.reportingDueDays(connection, agenda: agenda) ?? 30
        let today = Period.today()
        var type = lines.map(\.indicator.profile.periodType).max() ?? .month
        if type == .week { type = .month }
        let index =
            switch type {
            case .year: 1
            case .quarter: (today.month - 1) / 3 + 1
            default: today.month
            }
        var periods: [Period] = []
        var current = Period(type: type, year: today.year, index: index)
        while let period = current, periods.count < columns {
            periods.insert(period, at: 0)
            current = period.previous
        }
        let reports = try periods.map {
            (period: $0, report: try Reports.completeness(connection, agenda: agenda, period: $0))
        }
        return CompletenessGrid(reports: reports, partnerNames: names, graceDays: graceDays, today: today)
    }
}

/// `body` of 0..<count, at most `limit` at a time, the results in index order.
func inParallel<T: Sendable>(
    _ count: Int, atMost limit: Int, _ body: @escaping @Sendable (Int) async throws -> T
) async throws -> [T] {
    var results = [T?](repeating: nil, count: count)
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        var next = 0
        func add() {
            let index = next
            next += 1
            group.addTask { (index, try await body(index)) }
        }
        while next < min(limit, count) { add() }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < count { add() }
        }
    }
    return results.map { $0! }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
