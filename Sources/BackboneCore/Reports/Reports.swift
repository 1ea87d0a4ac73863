import Aggregation
import Foundation
import Postgres

/// The shared reports: each reads what it needs through `ReportSource` and lets the
/// `Aggregation` module combine it.
public enum Reports {
    /// Who sees the report: the coordinator sees every cell; everyone else gets small
    /// cells withheld under `policy`.
    public struct Audience: Sendable {
        public var policy: SuppressionPolicy?

        public init(policy: SuppressionPolicy?) {
            self.policy = policy
        }

        func apply(_ report: Report, isCount: Bool) -> Report {
            guard let policy else { return report }
            return Suppression.apply(report, policy: policy, isCount: isCount)
        }
    }

    /// A period range in whatever spelling the caller used; `until` is exclusive.
    public struct Range: Sendable {
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
    public static func indicator(
        _ connection: Connection, code: String, request: ReportRequest, range: Range, audience: Audience
    ) throws -> (ReportSource.IndicatorInfo, Report) {
        guard let info = try ReportSource.indicator(connection, code: code) else {
            throw DomainError.notFound("No indicator \(code).")
        }
        if let type = request.periodType, type < info.profile.periodType {
            throw DomainError.invalid(
                field: "period_type", code: "finer-than-indicator",
                "\(code) is reported by \(info.profile.periodType.rawValue); a report cannot split it into \(type.rawValue)s")
        }
        let tree = try ReportSource.tree(connection)
        if let within = request.within, tree.depth(of: within) == nil {
            throw DomainError.invalid(field: "within", code: "unknown-neighborhood", "no neighborhood \(within) exists")
        }
        let raw = ReportSource.needsRawRows(request, profile: info.profile, singlePeriod: range.isSinglePeriod)
        let partials = try ReportSource.partials(connection, indicator: info, from: range.start, until: range.until, raw: raw)
        let report = Aggregator.report(partials, profile: info.profile, request: request, tree: tree)
        return (info, audience.apply(report, isCount: info.profile.isCount))
    }
}
