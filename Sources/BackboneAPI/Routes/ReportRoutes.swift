import Aggregation
import BackboneCore
import Foundation
import HTTPServer
import Postgres

/// `/v1/reports/…`: the indicator report, the scorecard, completeness and equity.
struct ReportRoutes {
    let pool: ConnectionPool
    let metrics: AppMetrics
    /// Keeps the registry's part of the indicator report between reports.
    let memo: any RegistryMemo
    /// Gives a rendered report again while the database and the registry have not changed.
    let rendered: RenderedReports

    func register(in routes: inout RouteTable) {
        let memo = self.memo

        routes.get(
            "/v1/reports/indicators/{code}", .anyKey, query: ["by", "period", "from", "to", "period_type", "level", "within"], offers: [.json, .csv]
        ) { request, context in
            let audience = context.caller.audience
            let code = context.parameters.require("code")
            let groupings = try Self.groupings(request)
            let reportRequest = ReportRequest(
                groupings: groupings, periodType: try Self.periodType(request), neighborhoodDepth: try Self.level(request),
                within: request.query("within"))
            let range = try Self.range(request)
            return try await respond(to: request, context, report: "indicator") {
                try Reports.indicator($0, code: code, request: reportRequest, range: range, audience: audience, memo: memo)
            } render: { answer in
                let (info, report) = (answer.indicator, answer.report)
                let row = ReportEncoding.RowShape(groupings: groupings)
                let heading: [(String, JSONValue)] = [
                    ("indicator", .string(info.code)), ("name", .string(info.name)), ("unit", JSONValue(info.unit)),
                    ("aggregation", .string(info.profile.method.rawValue)),
                    ("period_type", .string((reportRequest.periodType ?? info.profile.periodType).rawValue)),
                    ("by", .array(groupings.map { .string($0.name) })),
                    ("from", JSONValue(range.from?.description)), ("to", JSONValue(range.to?.description)),
                    ("total", ReportEncoding.json(report.total, groupings: [])),
                    ("releases", Self.releasesJSON(answer.releases)),
                ]
                if request.representation == .csv {
                    var document = Dictionary(uniqueKeysWithValues: heading)
                    document["rows"] = .array(report.rows.map(row.json))
                    let leading = groupings.map { grouping -> String in
                        if case .dimension(let name) = grouping { return "dim.\(name)" }
                        return grouping.name
                    }
                    return CSVDocument.table(.object(document), rows: "rows", leading: leading + ["value", "measurements", "partners"]).response()
                }
                // The rows are written straight from the cells, their keys sorted once (`RowShape`).
                var body: [UInt8] = []
                body.reserveCapacity(256 * (report.rows.count + 1))
                JSONObjectShape(heading.map(\.0) + ["rows"]).write(into: &body) { position, output in
                    guard position < heading.count else {
                        output.append(UInt8(ascii: "["))
                        for (index, cell) in report.rows.enumerated() {
                            if index > 0 { output.append(UInt8(ascii: ",")) }
                            row.write(cell, into: &output)
                        }
                        output.append(UInt8(ascii: "]"))
                        return true
                    }
                    heading[position].1.write(into: &output)
                    return true
                }
                return HTTPResponse(contentType: "application/json", body: body)
            }
        }

        routes.get("/v1/reports/scorecard", .anyKey, query: ["agenda"], offers: [.json, .csv]) { request, context in
            let audience = context.caller.audience
            let agenda = try Self.required(request, "agenda")
            return try await respond(to: request, context, report: "scorecard") {
                try Reports.scorecard($0, agenda: agenda, audience: audience)
            } render: { lines in
                let document = JSONValue.object(["agenda": .string(agenda), "indicators": .array(lines.map(Self.scorecardJSON))])
                if request.representation == .csv {
                    return CSVDocument.table(document, rows: "indicators", leading: ["indicator", "name", "period", "value"]).response()
                }
                return .json(document)
            }
        }

        routes.get("/v1/reports/completeness", .coordinator("see who has not reported"), query: ["agenda", "period"], offers: [.json, .csv]) { request, context in
            let agenda = try Self.required(request, "agenda")
            let period = try Self.period(request, "period", required: true)!
            return try await respond(to: request, context, report: "completeness") {
                try Reports.completeness($0, agenda: agenda, period: period)
            } render: { report in
                if request.representation == .csv {
                    let document = report.json
                    return CSVDocument.table(document, rows: "entries", leading: ["partner", "indicator", "neighborhood", "id"]).response()
                }
                return .json(report)
            }
        }

        routes.get("/v1/reports/equity", .anyKey, query: ["indicator", "period", "level"], offers: [.json, .csv]) { request, context in
            let audience = context.caller.audience
            let code = try Self.required(request, "indicator")
            let period = try Self.period(request, "period", required: true)!
            let depth = try Self.level(request)
            return try await respond(to: request, context, report: "equity") {
                try Reports.equity($0, code: code, period: period, depth: depth, audience: audience)
            } render: { (info, lines, releases) in
                let rows: [JSONValue] = lines.enumerated().map { rank, line in
                    var object = ReportEncoding.json(line.cell, groupings: [.neighborhood]).objectValue ?? [:]
                    object["rank"] = JSONValue(rank + 1)
                    object["gap"] = JSONValue(line.cell.suppressed ? nil : line.gap)
                    object["population"] = JSONValue(line.population)
                    return .object(object)
                }
                let document = JSONValue.object([
                    "indicator": .string(info.code), "period": .string(period.description),
                    "direction": .string(info.profile.increaseIsBetter ? "increase" : "decrease"),
                    "target": JSONValue(info.profile.target?.value), "neighborhoods": .array(rows),
                    "releases": Self.releasesJSON(releases),
                ])
                if request.representation == .csv {
                    return CSVDocument.table(document, rows: "neighborhoods", leading: ["rank", "neighborhood", "value"]).response()
                }
                return .json(document)
            }
        }
    }

    /// The report `request` asks for: the response rendered for an earlier request when
    /// neither the database nor the registry has changed since (``RenderedReports``), else
    /// `report` computed on a connection and `render`ed, and kept for the next one.
    private func respond<Value: Sendable>(
        to request: HTTPRequest, _ context: RequestContext, report kind: String,
        report: @escaping @Sendable (Connection) throws -> Value, render: (Value) throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        // The view the report is computed for, from the same rule (`Caller.audience`).
        let audience = switch context.caller.audience {
        case .coordinator: "all"
        case .published(let partner): "published:\(partner ?? "")"
        }
        let key = RenderedReports.Key(
            audience: audience, representation: request.representation, path: request.path,
            query: request.query.flatMap { [$0.name, $0.value] })
        let rendered = self.rendered
        let started = ContinuousClock.now
        let outcome = try await database(pool, transaction: false) { connection -> RenderedReports.Outcome<Value> in
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
            let response = try render(value)
            if let stamp { rendered.keep(response, for: key, at: stamp) }
            return response
        }
    }

    /// The releases a report was cut from; `null` for live data (the coordinator's).
    static func releasesJSON(_ releases: [Release.Stamp]?) -> JSONValue {
        releases.map { .array($0.map(\.json)) } ?? .null
    }

    static func scorecardJSON(_ line: ScorecardLine) -> JSONValue {
        let info = line.indicator
        return .object([
            "indicator": .string(info.code), "name": .string(info.name), "unit": JSONValue(info.unit),
            "aggregation": .string(info.profile.method.rawValue),
            "period": JSONValue(line.latestPeriod?.description), "value": JSONValue(line.latest?.value),
            "previous_period": JSONValue(line.previousPeriod?.description), "previous_value": JSONValue(line.previous?.value),
            "trend": JSONValue(line.trend), "improving": JSONValue(line.improving),
            "baseline": info.profile.baseline.map { .object(["period": .string($0.period.description), "value": .number($0.value)]) } ?? .null,
            "target": info.profile.target.map { .object(["period": .string($0.period.description), "value": .number($0.value)]) } ?? .null,
            "progress": JSONValue(line.latest?.progress), "projected": JSONValue(line.projected), "on_track": JSONValue(line.onTrack),
            "suppressed": .bool(line.latest?.suppressed ?? false),
        ])
    }

    static func required(_ request: HTTPRequest, _ name: String) throws -> String {
        guard let value = request.query(name), !value.isEmpty else {
            throw Problem.badRequest("\(name) is required.", field: name, code: "required")
        }
        return value
    }

    static func period(_ request: HTTPRequest, _ name: String, required: Bool = false) throws -> Period? {
        guard let text = request.query(name) else {
            if required { throw Problem.badRequest("\(name) is required.", field: name, code: "required") }
            return nil
        }
        guard let period = Period(text) else {
            throw Problem.badRequest("\(name) must be a period such as 2026, 2026-Q3, 2026-10 or 2026-W05.", field: name, code: "malformed-period")
        }
        return period
    }

    static func range(_ request: HTTPRequest) throws -> Reports.PeriodRange {
        if let single = try period(request, "period") { return Reports.PeriodRange(from: single, to: single) }
        let range = Reports.PeriodRange(from: try period(request, "from"), to: try period(request, "to"))
        if let from = range.from, let to = range.to, to.end <= from.start {
            throw Problem.badRequest("to must not come before from.", field: "to", code: "empty-range")
        }
        try range.checkSpan()
        return range
    }

    static func groupings(_ request: HTTPRequest) throws -> [Grouping] {
        guard let text = request.query("by"), !text.isEmpty else { return [] }
        var groupings: [Grouping] = []
        for part in text.split(separator: ",") {
            guard let grouping = Grouping(String(part)), !groupings.contains(grouping) else {
                throw Problem.badRequest(
                    "by takes neighborhood, partner, period and dimension:NAME, each once, separated by commas.", field: "by", code: "invalid-grouping")
            }
            groupings.append(grouping)
        }
        return groupings
    }

    static func periodType(_ request: HTTPRequest) throws -> PeriodType? {
        guard let text = request.query("period_type") else { return nil }
        guard let type = PeriodType(rawValue: text) else {
            throw Problem.badRequest("period_type must be week, month, quarter or year.", field: "period_type", code: "invalid-period-type")
        }
        return type
    }

    static func level(_ request: HTTPRequest) throws -> Int? {
        guard let text = request.query("level") else { return nil }
        guard let level = Int(text), (0...20).contains(level) else {
            throw Problem.badRequest("level is a depth in the neighborhood tree, 0 for the top.", field: "level", code: "invalid-level")
        }
        return level
    }
}
