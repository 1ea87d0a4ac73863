import BackboneCore
import CoreMetrics
import HTTPServer
import Postgres

/// The service's own metrics next to the server's request metrics: measurements
/// ingested by outcome, report latency by kind, the database pool, build info.
///
/// Names (Prometheus): `backbone_measurements_ingested_total{outcome}`,
/// `backbone_report_duration_seconds{report}` (computed reports), `backbone_reports_total{report,
/// source}` (kept or computed), `backbone_db_pool_connections{state}`,
/// `backbone_db_pool_waiting`, `backbone_db_pool_size`, `backbone_build_info{version}`.
struct AppMetrics: Sendable {
    let service: ServiceMetrics
    private let ingested: [String: CoreMetrics.Counter]
    /// Every report kind's series, made up front: a kind is never missing (see `init`).
    private let reports: [ReportKind: ReportSeries]
    private let poolInUse: CoreMetrics.Gauge
    private let poolIdle: CoreMetrics.Gauge
    private let poolWaiting: CoreMetrics.Gauge
    private let poolSize: CoreMetrics.Gauge

    static let outcomes = ["created", "updated", "unchanged", "rejected"]

    init(_ service: ServiceMetrics) {
        self.service = service
        let factory = service.factory
        ingested = Dictionary(
            uniqueKeysWithValues: Self.outcomes.map {
                (
                    $0,
                    CoreMetrics.Counter(
                        label: "backbone_measurements_ingested_total", dimensions: [("outcome", $0)], factory: factory)
                )
            })
        reports = Dictionary(uniqueKeysWithValues: ReportKind.allCases.map { ($0, ReportSeries($0, factory: factory)) })
        poolInUse = CoreMetrics.Gauge(
            label: "backbone_db_pool_connections", dimensions: [("state", "in_use")], factory: factory)
        poolIdle = CoreMetrics.Gauge(
            label: "backbone_db_pool_connections", dimensions: [("state", "idle")], factory: factory)
        poolWaiting = CoreMetrics.Gauge(label: "backbone_db_pool_waiting", dimensions: [], factory: factory)
        poolSize = CoreMetrics.Gauge(label: "backbone_db_pool_size", dimensions: [], factory: factory)
        CoreMetrics.Gauge(
            label: "backbone_build_info", dimensions: [("version", BackboneVersion.current)], factory: factory
        ).record(1)
    }

    /// Counts a submission's rows by outcome (a dry run stores nothing, so only its rejections count).
    func ingested(_ summary: ImportSummary) {
        if !summary.dryRun {
            ingested["created"]!.increment(by: Int64(summary.created))
            ingested["updated"]!.increment(by: Int64(summary.updated))
            ingested["unchanged"]!.increment(by: Int64(summary.unchanged))
        }
        ingested["rejected"]!.increment(by: Int64(summary.rejected))
    }

    /// Counts the rows of a refused all-or-nothing submission as rejected.
    func rejected(_ rows: Int) {
        ingested["rejected"]!.increment(by: Int64(rows))
    }

    /// Counts a report given, as kept (`computedIn` nil) or computed in that time.
    func reportGiven(_ kind: ReportKind, computedIn elapsed: Duration?) {
        // Present for every kind: `reports` is made from `ReportKind.allCases`.
        guard let series = reports[kind] else { return }
        guard let elapsed else {
            series.kept.increment()
            return
        }
        series.computed.increment()
        series.duration.record(elapsed)
    }

    /// The Prometheus text of every metric, with the pool's gauges read now.
    func exposition(pool: ConnectionPool) -> [UInt8] {
        let statistics = pool.statistics
        poolInUse.record(statistics.inUse)
        poolIdle.record(statistics.idle)
        poolWaiting.record(statistics.waiting)
        poolSize.record(pool.size)
        return service.exposition()
    }
}

/// One report kind's series: its computing time and how often it was given, kept or computed.
private struct ReportSeries: Sendable {
    let duration: CoreMetrics.Timer
    let kept: CoreMetrics.Counter
    let computed: CoreMetrics.Counter

    init(_ kind: ReportKind, factory: any MetricsFactory) {
        duration = CoreMetrics.Timer(
            label: "backbone_report_duration_seconds", dimensions: [("report", kind.rawValue)], factory: factory)
        kept = CoreMetrics.Counter(
            label: "backbone_reports_total", dimensions: [("report", kind.rawValue), ("source", "kept")],
            factory: factory)
        computed = CoreMetrics.Counter(
            label: "backbone_reports_total", dimensions: [("report", kind.rawValue), ("source", "computed")],
            factory: factory)
    }
}
