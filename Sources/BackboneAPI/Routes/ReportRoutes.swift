import Aggregation
import BackboneCore
import Foundation
import HTTPServer
import Postgres

/// The reports `/v1/reports/…` serves. Metrics (`AppMetrics`) and kept responses
/// (`RenderedReports`) are per kind, for every kind there is; a kind is added here, with
/// its route below, and its writer (`Reports/`).
enum ReportKind: String, CaseIterable, Sendable {
    case indicator, scorecard, completeness, equity
}

/// `/v1/reports/…`: each route reads its request, asks `Reports` for the answer and hands
/// it to the report's `ReportWriter`; answers are kept while nothing changes.
struct ReportRoutes {
    let pool: ConnectionPool
    let metrics: AppMetrics
    /// Keeps the registry's part of the indicator report between reports.
    let memo: any RegistryMemo
    /// Gives a rendered report again while the database and the registry have not changed.
    let rendered: RenderedReports

    func register(in routes: inout RouteTable) {
        // Exhaustive, so that no kind goes without its route.
        for kind in ReportKind.allCases {
            switch kind {
            case .indicator: registerIndicator(in: &routes)
            case .scorecard: registerScorecard(in: &routes)
            case .completeness: registerCompleteness(in: &routes)
            case .equity: registerEquity(in: &routes)
            }
        }
    }

    private func registerIndicator(in routes: inout RouteTable) {
        let query = ["by", "period", "from", "to", "period_type", "level", "within"]
        routes.get("/v1/reports/indicators/{code}", .anyKey, query: query, offers: [.json, .csv]) { request, context in
            let (audience, memo) = (context.caller.audience, self.memo)
            let code = context.parameters.require("code")
            let groupings = try QueryParameters.groupings(request)
            let question = ReportRequest(
                groupings: groupings, periodType: try QueryParameters.periodType(request),
                neighborhoodDepth: try QueryParameters.level(request),
                within: request.query("within"))
            let range = try QueryParameters.range(request)
            let writer = IndicatorReportWriter(groupings: groupings, periodType: question.periodType, range: range)
            return try await respond(to: request, context, .indicator, writer) {
                try Reports.indicator($0, code: code, request: question, range: range, audience: audience, memo: memo)
            }
        }
    }

    private func registerScorecard(in routes: inout RouteTable) {
        routes.get("/v1/reports/scorecard", .anyKey, query: ["agenda"], offers: [.json, .csv]) { request, context in
            let audience = context.caller.audience
            let agenda = try QueryParameters.required(request, "agenda")
            return try await respond(to: request, context, .scorecard, ScorecardWriter(agenda: agenda)) {
                try Reports.scorecard($0, agenda: agenda, audience: audience)
            }
        }
    }

    private func registerCompleteness(in routes: inout RouteTable) {
        let access = Access.coordinator("see who has not reported")
        routes.get("/v1/reports/completeness", access, query: ["agenda", "period"], offers: [.json, .csv]) {
            request, context in
            let agenda = try QueryParameters.required(request, "agenda")
            let period = try QueryParameters.period(request, "period", required: true)!
            return try await respond(to: request, context, .completeness, CompletenessWriter()) {
                try Reports.completeness($0, agenda: agenda, period: period)
            }
        }
    }

    private func registerEquity(in routes: inout RouteTable) {
        routes.get("/v1/reports/equity", .anyKey, query: ["indicator", "period", "level"], offers: [.json, .csv]) {
            request, context in
            let audience = context.caller.audience
            let code = try QueryParameters.required(request, "indicator")
            let period = try QueryParameters.period(request, "period", required: true)!
            let depth = try QueryParameters.level(request)
            return try await respond(to: request, context, .equity, EquityWriter(period: period)) {
                try Reports.equity($0, code: code, period: period, depth: depth, audience: audience)
            }
        }
    }

    /// The report `request` asks for: the response rendered for an earlier request when
    /// neither the database nor the registry has changed since (``RenderedReports``), else
    /// `report` computed on a connection and written by `writer`, and kept for the next one.
    private func respond<Writer: ReportWriter>(
        to request: HTTPRequest, _ context: RequestContext, _ kind: ReportKind, _ writer: Writer,
        report: @escaping @Sendable (Connection) throws -> Writer.Answer
    ) async throws -> HTTPResponse {
        // The view the report is computed for, from the same rule (`Caller.audience`).
        let audience =
            switch context.caller.audience {
            case .coordinator: "all"
            case .published(let partner): "published:\(partner ?? "")"
            }
        let key = RenderedReports.Key(
            report: kind, audience: audience, representation: request.representation, path: request.path,
            query: request.query.flatMap { [$0.name, $0.value] })
        let rendered = self.rendered
        let started = ContinuousClock.now
        let outcome = try await database(pool, transaction: false) {
            connection -> RenderedReports.Outcome<Writer.Answer> in
            let stamp = try rendered.stamp(connection, keyID: context.caller.key.id)
            if let stamp, let kept = rendered.response(for: key, at: stamp) { return .kept(kept) }
            return .computed(try report(connection), stamp)
        }
        switch outcome {
        case .kept(let response):
            metrics.reportGiven(kind, computedIn: nil)
            return response
        case .computed(let value, let stamp):
            metrics.reportGiven(kind, computedIn: ContinuousClock.now - started)
            let response = try writer.response(value, as: request.representation)
            if let stamp { rendered.keep(response, for: key, at: stamp) }
            return response
        }
    }
}
