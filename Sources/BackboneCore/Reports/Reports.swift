import Aggregation
import Foundation
import Postgres

/// The shared reports: each reads what it needs through `ReportSource` and lets the
/// `Aggregation` module combine it.
public enum Reports {
    /// Who sees the report: the coordinator sees every cell; everyone else sees what
    /// ``ProtectedCells`` lets through under `policy`.
    public struct Audience: Sendable {
        public var policy: SuppressionPolicy?
        /// The partner behind a partner key.
        public var partner: String?

        public init(policy: SuppressionPolicy?, partner: String? = nil) {
            self.policy = policy
            self.partner = partner
        }

        /// Whether reports must read raw measurements (protection needs each partner's share).
        var needsRawRows: Bool { policy != nil }

        /// `report`, built from `partials` (raw when ``needsRawRows``), as this audience may see it.
        func apply(_ report: Report, partials: [Partial], request: ReportRequest, tree: NeighborhoodTree, profile: IndicatorProfile) -> Report {
            guard let policy else { return report }
            let cells = ProtectedCells(raw: partials, tree: tree, policy: policy, isCount: profile.isCount)
            return Suppression.apply(
                report, cells: cells, request: request, tree: tree, method: profile.method, reader: .init(partner: partner))
        }
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
    }

    /// The indicator report: `request` groups over `range`.
    /// `memo` keeps the registry's part between reports.
    public static func indicator(
        _ connection: Connection, code: String, request: ReportRequest, range: PeriodRange, audience: Audience,
        memo: some RegistryMemo = .none
    ) throws -> (Indicator, Report) {
        guard let info = try memo.remember("indicator:\(code)", { try IndicatorStore.find(connection, code: code) }) else {
            throw DomainError.notFound("No indicator \(code).")
        }
        if let type = request.periodType, type < info.profile.periodType {
            throw DomainError.invalid(
                field: "period_type", code: "finer-than-indicator",
                "\(code) is reported by \(info.profile.periodType.rawValue); a report cannot split it into \(type.rawValue)s")
        }
        let tree = try memo.remember("tree") { try ReportSource.tree(connection) }
        let partners = ReportSource.PartnerDirectory(numbering: try memo.remember("partners") { try ReportSource.partnerNumbering(connection) })
        if let within = request.within, tree.depth(of: within) == nil {
            throw DomainError.invalid(field: "within", code: "unknown-neighborhood", "no neighborhood \(within) exists")
        }
        if let within = request.within, let depth = request.neighborhoodDepth, let withinDepth = tree.depth(of: within), depth < withinDepth {
            throw DomainError.invalid(
                field: "level", code: "level-above-within",
                "\(within) lies at level \(withinDepth); a report within it cannot roll up to level \(depth) above it")
        }
        let raw = audience.needsRawRows
            || ReportSource.needsRawRows(request, profile: info.profile, singlePeriod: range.isSinglePeriod)
        let partials: [Partial]
        var totalPartials: [Partial]?
        if !raw, info.profile.method == .last, !range.isSinglePeriod {
            // Rollups merge partners: a stock over several periods stands on each series' latest.
            // Rows by native period still come from the rollups; every other cell, and the
            // total, from each series' latest.
            let latest = try ReportSource.latestPerSeries(connection, indicator: info, from: range.start, until: range.until, partners: partners)
            let byNativePeriod = request.groupings.contains(.period) && (request.periodType ?? info.profile.periodType) == info.profile.periodType
            if byNativePeriod {
                partials = try ReportSource.partials(connection, indicator: info, from: range.start, until: range.until, raw: false, partners: partners)
                totalPartials = latest
            } else {
                partials = latest
            }
        } else {
            partials = try ReportSource.partials(connection, indicator: info, from: range.start, until: range.until, raw: raw, partners: partners)
        }
        let report = Aggregator.report(partials, profile: info.profile, request: request, tree: tree, totalPartials: totalPartials)
        return (info, audience.apply(report, partials: partials, request: request, tree: tree, profile: info.profile))
    }
}
