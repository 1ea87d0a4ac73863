import Aggregation
import DomainModel

/// Everything one dashboard page shows, gathered by the caller from the protected
/// reports (`Reports.scorecard`, `Reports.indicator`, `Reports.equity`,
/// `Reports.completeness`) for one audience. The dashboard only draws it.
public struct DashboardModel: Sendable {
    public struct Agenda: Sendable {
        public var id: String
        public var name: String
        public var vision: String?

        public init(id: String, name: String, vision: String? = nil) {
            self.id = id
            self.name = name
            self.vision = vision
        }
    }

    /// Who is looking: decides the header line and what the page explains about suppression.
    public enum Audience: String, Sendable {
        case coordinator, partner, viewer

        /// Whether small cells are withheld from this audience.
        public var isProtected: Bool { self != .coordinator }
    }

    public var agenda: Agenda
    /// Every agenda the deployment runs (for the agenda switcher).
    public var agendas: [Agenda]
    public var audience: Audience
    /// The partner's name for a partner key.
    public var partnerName: String?
    public var indicators: [IndicatorPanel]
    /// The completeness grid; `nil` for anyone but the coordinator.
    public var completeness: CompletenessGrid?
    /// Standing data-quality flags: every partner's for the coordinator, its own for a
    /// partner; `nil` for a viewer.
    public var quality: QualityPanel?

    public init(
        agenda: Agenda, agendas: [Agenda], audience: Audience, partnerName: String? = nil,
        indicators: [IndicatorPanel], completeness: CompletenessGrid?, quality: QualityPanel? = nil
    ) {
        self.quality = quality
        self.agenda = agenda
        self.agendas = agendas
        self.audience = audience
        self.partnerName = partnerName
        self.indicators = indicators
        self.completeness = completeness
    }
}

/// One indicator: its scorecard line, its community series and its latest period by neighborhood.
public struct IndicatorPanel: Sendable {
    public var line: ScorecardLine
    /// The rows of a by-period report over every period (community-wide), in period order.
    public var series: [Cell]
    /// The equity view of the latest period, largest gap first; empty without data.
    public var neighborhoods: [EquityLine]
    /// Neighborhood code → name.
    public var neighborhoodNames: [String: String]
    /// The tree level the neighborhoods are shown at, when it is not each neighborhood's own
    /// (a partner's or viewer's chart rolled up where finer figures would mostly be withheld).
    public var neighborhoodLevel: Int?
    /// Why the neighborhoods are shown at `neighborhoodLevel`, as the chart says it.
    public var neighborhoodLevelReason = "most finer figures are withheld from this view"

    public init(
        line: ScorecardLine, series: [Cell], neighborhoods: [EquityLine], neighborhoodNames: [String: String],
        neighborhoodLevel: Int? = nil
    ) {
        self.line = line
        self.series = series
        self.neighborhoods = neighborhoods
        self.neighborhoodNames = neighborhoodNames
        self.neighborhoodLevel = neighborhoodLevel
    }

    var info: Indicator { line.indicator }
    var code: String { info.code }
    var unit: String? {
        if info.profile.scale == 100 { return "%" }
        return info.unit
    }
    /// Counts are whole numbers (a projection or a mean of counts is rounded to one).
    var decimals: Int { info.profile.isCount ? 0 : 1 }
    /// A value as the charts write it: grouped digits, the unit, whole numbers for counts.
    func format(_ value: Double) -> String { Format.value(value, unit: unit, decimals: decimals) }
    /// What the equity chart compares: rates per 1,000 residents for counts, totals and
    /// stocks, else values (docs/domain.md#equity).
    public var equityComparison: EquityComparison { neighborhoods.first?.comparison ?? .value }
    /// Whether the equity chart draws rates per 1,000 residents: it compares rates and some
    /// neighborhood has one. Where no neighborhood has a population the chart draws the counts,
    /// unranked and without the community's target: never a count against a community total.
    var drawsRates: Bool { equityComparison.comparesRates && neighborhoods.contains { $0.cell.per1000 != nil } }
    /// The figure a neighborhood's bar shows: its rate per 1,000 or its value.
    func chartFigure(_ line: EquityLine) -> Double? { drawsRates ? line.cell.per1000 : line.cell.value }
    /// The target the equity chart draws: per 1,000 residents of the community when it draws
    /// rates (nil when the community has no population), the target when it compares values,
    /// and none for counts drawn as counts.
    var comparedTarget: Double? {
        guard drawsRates || !equityComparison.comparesRates else { return nil }
        return equityComparison.comparedTarget(info.profile.target?.value)
    }
    /// A figure of the equity chart: a rate per 1,000 residents or a value.
    func formatCompared(_ figure: Double) -> String {
        drawsRates ? "\(Format.number(figure, decimals: 1)) per 1,000" : format(figure)
    }
    /// The value axis's label: the unit when there is one, else the indicator's name.
    var valueAxisLabel: String {
        let label = unit.map { $0 == "%" ? "Percent" : $0.prefix(1).uppercased() + $0.dropFirst() } ?? info.name
        return label.count > 34 ? String(label.prefix(33)) + "…" : label
    }
}

/// Partners × periods: who reported what they committed to.
public struct CompletenessGrid: Sendable {
    /// One completeness report per column, oldest first.
    public var reports: [(period: Period, report: CompletenessReport)]
    /// Partner id → name.
    public var partnerNames: [String: String]
    /// The agenda's `reporting_due_days`: a period's numbers are due that many days after its
    /// last day; a commitment still missing after that day is late.
    public var graceDays: Int
    /// Today, to tell missing (still due) from late.
    public var today: Day

    public init(
        reports: [(period: Period, report: CompletenessReport)], partnerNames: [String: String], graceDays: Int,
        today: Day
    ) {
        self.reports = reports
        self.partnerNames = partnerNames
        self.graceDays = graceDays
        self.today = today
    }

    /// A cell's state.
    public enum State: String, Sendable {
        /// Every commitment reported.
        case reported
        /// Something not reported yet, but its deadline has not passed.
        case missing
        /// Something still not reported after the deadline: chase it.
        case late
    }

    /// The state of `partner` in the column of `period`, with how many commitments it reported.
    public func cell(partner: String, column: Int) -> (state: State, reported: Int, committed: Int)? {
        let (period, report) = reports[column]
        let entries = report.entries.filter { $0.partner == partner }
        guard !entries.isEmpty else { return nil }
        let reported = entries.filter(\.reported).count
        if reported == entries.count { return (.reported, reported, entries.count) }
        return (isPastDeadline(period) ? .late : .missing, reported, entries.count)
    }

    func isPastDeadline(_ period: Period) -> Bool {
        period.end.adding(days: graceDays) <= today
    }

    /// The latest reminder sent to `partner` for the column's period, if any went out.
    public func lastReminder(partner: String, column: Int) -> CompletenessReport.Reminder? {
        reports[column].report.entries.filter { $0.partner == partner }.flatMap(\.reminders)
            .max { $0.sentAt < $1.sentAt }
    }

    /// Every partner with a commitment in some column, in id order.
    public var partners: [String] {
        Array(Set(reports.flatMap { $0.report.entries.map(\.partner) })).sorted()
    }
}

extension Period {
    /// Every period of this type from `self` through `last` (at most `limit`).
    func through(_ last: Period, limit: Int = 2000) -> [Period] {
        var periods: [Period] = []
        var current: Period? = self
        while let period = current, period <= last, periods.count < limit {
            periods.append(period)
            current = period.following
        }
        return periods
    }
}
