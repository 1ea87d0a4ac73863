import Aggregation
import DomainModel
import Foundation
import Postgres

/// The shared reports: each reads what it needs through `ReportSource` and lets the
/// `Aggregation` module combine it.
public enum Reports {
    /// Who sees the report: the coordinator reads live data and every cell; partner and
    /// viewer keys read releases (``Releases``) under their protection, and a partner its own
    /// rows of a `by=partner` report, live.
    public enum Audience: Sendable, Hashable {
        case coordinator
        /// A partner key (its partner) or a viewer key (`nil`).
        case published(partner: String?)
    }

    /// A period range in whatever spelling the caller used; `until` is exclusive.
    public struct PeriodRange: Sendable {
        public var from: Period?
        public var to: Period?

        public init(from: Period?, to: Period?) {
            self.from = from
            self.to = to
        }

        var start: Day? { from?.start }
        var until: Day? { to?.end }
        var isSinglePeriod: Bool { from != nil && from == to }

        /// The most years a report may span (1,200 months, about 5,218 weeks): what a request
        /// costs must not grow with a mistyped year (`from=1000-01`).
        public static let maxSpanYears = 100

        /// Refuses, before any work, a range that spans more than `maxSpanYears`; a range
        /// open at its end is measured to `today`.
        public func checkSpan(today: Day = Period.today()) throws {
            guard let start else { return }
            let end = until ?? today.adding(days: 1)
            guard end > Day(year: start.year + Self.maxSpanYears, month: start.month, day: min(start.day, 28)) else {
                return
            }
            throw DomainError.invalid(
                field: to == nil ? "from" : "to", code: "range-too-long",
                "\(from!)..\(to.map(\.description) ?? "today") spans more than \(Self.maxSpanYears) years, the most one report covers; "
                    + "ask for a shorter range (several reports if need be)")
        }
    }

    /// An indicator report and where its numbers come from.
    public struct IndicatorReport: Sendable {
        public var indicator: Indicator
        public var report: Report
        /// The releases it was cut from; `nil` for live data (the coordinator).
        public var releases: [Release.Stamp]?
    }

    /// The indicator report: `request` groups over `range`.
    /// `memo` keeps the registry's part between reports.
    public static func indicator(
        _ connection: Connection, code: String, request: ReportRequest, range: PeriodRange, audience: Audience,
        memo: some RegistryMemo = .none
    ) throws -> IndicatorReport {
        guard let info = try memo.remember("indicator:\(code)", { try IndicatorStore.find(connection, code: code) })
        else {
            throw DomainError.notFound("No indicator \(code).")
        }
        if let type = request.periodType, type < info.profile.periodType {
            throw DomainError.invalid(
                field: "period_type", code: "finer-than-indicator",
                "\(code) is reported by \(info.profile.periodType.rawValue); a report cannot split it into \(type.rawValue)s"
            )
        }
        let tree = try memo.remember("tree") { try ReportSource.tree(connection) }
        let partners = ReportSource.PartnerDirectory(
            numbering: try memo.remember("partners") { try ReportSource.partnerNumbering(connection) })
        if let within = request.within, tree.depth(of: within) == nil {
            throw DomainError.invalid(field: "within", code: "unknown-neighborhood", "no neighborhood \(within) exists")
        }
        if let within = request.within, let depth = request.neighborhoodDepth, let withinDepth = tree.depth(of: within),
            depth < withinDepth
        {
            throw DomainError.invalid(
                field: "level", code: "level-above-within",
                "\(within) lies at level \(withinDepth); a report within it cannot roll up to level \(depth) above it")
        }
        guard case .published(let partner) = audience else {
            var report = try live(connection, info, request: request, range: range, tree: tree, partners: partners)
            report = try OpenFlags.count(
                connection, on: report, indicator: info, request: request, range: range, tree: tree)
            return IndicatorReport(indicator: info, report: report, releases: nil)
        }
        let published = try Releases.published(
            connection, indicator: info, from: range.start, until: range.until, tree: tree, partners: partners)
        var report: Report
        if request.groupings.contains(.partner) {
            // Other partners' rows are not listed at all; the reader's own come from its own rows, live.
            var totalRequest = request
            totalRequest.groupings = []
            report = Aggregator.report(published.partials, profile: info.profile, request: totalRequest, tree: tree)
            if let partner {
                let own = try ReportSource.partials(
                    connection, indicator: info, from: range.start, until: range.until, raw: true, partners: partners,
                    onlyPartner: partner)
                report.rows = Aggregator.report(own, profile: info.profile, request: request, tree: tree).rows
            }
        } else {
            report = Aggregator.report(published.partials, profile: info.profile, request: request, tree: tree)
        }
        report = Suppression.apply(
            report, withheld: published.withheld, request: request, tree: tree, method: info.profile.method,
            reader: .init(partner: partner))
        return IndicatorReport(indicator: info, report: report, releases: published.releases)
    }

    /// The report over live data, read from the rollups where they suffice.
    private static func live(
        _ connection: Connection, _ info: Indicator, request: ReportRequest, range: PeriodRange, tree: NeighborhoodTree,
        partners: ReportSource.PartnerDirectory
    ) throws -> Report {
        let raw = ReportSource.needsRawRows(request, profile: info.profile, singlePeriod: range.isSinglePeriod)
        let partials: [Partial]
        var totalPartials: [Partial]?
        if !raw, info.profile.method == .last, !range.isSinglePeriod {
            // Rollups merge partners: a stock over several periods stands on each series' latest.
            // Rows by native period still come from the rollups; every other cell, and the
            // total, from each series' latest.
            let latest = try ReportSource.latestPerSeries(
                connection, indicator: info, from: range.start, until: range.until, partners: partners)
            let byNativePeriod =
                request.groupings.contains(.period)
                && (request.periodType ?? info.profile.periodType) == info.profile.periodType
            if byNativePeriod {
                partials = try ReportSource.partials(
                    connection, indicator: info, from: range.start, until: range.until, raw: false, partners: partners)
                totalPartials = latest
            } else {
                partials = latest
            }
        } else {
            partials = try ReportSource.partials(
                connection, indicator: info, from: range.start, until: range.until, raw: raw, partners: partners)
        }
        return Aggregator.report(
            partials, profile: info.profile, request: request, tree: tree, totalPartials: totalPartials)
    }
}
