import Aggregation
import BackboneCore
import Foundation
import HTTPServer
import JSON
import NIOHTTP1
import Postgres

/// `/v1/measurements`: submit (JSON, batch, CSV), read back, retract, audit.
struct MeasurementRoutes {
    let pool: ConnectionPool
    let metrics: AppMetrics
    let quality: QualitySettings
    /// Whether stored batches write their events (`SUBMISSION_EVENTS`).
    let submissionEvents: Bool

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        let metrics = self.metrics
        let quality = self.quality
        let events = submissionEvents

        routes.post("/v1/measurements", .rawData, query: ["mode", "dry_run"]) { request, context in
            try await Self.submit(
                request, caller: context.caller, pool: pool, metrics: metrics, quality: quality, events: events)
        }
        routes.get(
            "/v1/measurements", .rawData,
            query: [
                "indicator", "partner", "neighborhood", "period", "from", "to", "batch_id", "limit", "cursor", "bom",
            ],
            offers: [.json, .csv]
        ) { request, context in
            try await Self.list(request, caller: context.caller, pool: pool)
        }
        routes.get("/v1/measurements/{id}", .rawData) { _, context in
            let caller = context.caller
            let id = try context.parameters.requireID("id", of: "measurement")
            guard
                let record = try await database(
                    pool, transaction: false, { try MeasurementRecords.find($0, id: id, visibleTo: caller.key.partner) }
                )
            else {
                throw Problem.notFound("No measurement \(id).")
            }
            return .json(record)
        }
        routes.delete("/v1/measurements/{id}", .rawData) { _, context in
            let caller = context.caller
            let id = try context.parameters.requireID("id", of: "measurement")
            try await database(pool) {
                try MeasurementRecords.retract($0, id: id, visibleTo: caller.key.partner, keyID: caller.key.id)
            }
            return HTTPResponse(status: .noContent)
        }
        routes.get("/v1/measurements/{id}/history", .rawData) { _, context in
            let caller = context.caller
            let id = try context.parameters.requireID("id", of: "measurement")
            let entries = try await database(pool, transaction: false) {
                try MeasurementRecords.history($0, id: id, visibleTo: caller.key.partner)
            }
            guard !entries.isEmpty else { throw Problem.notFound("No measurement \(id).") }
            return .json(HistoryPage(measurementID: id, entries: entries))
        }
    }

    /// `GET /v1/measurements`: a page of the selected rows, as JSON or CSV; the CSV export
    /// without a `limit` streams every selected row.
    static func list(_ request: HTTPRequest, caller: Caller, pool: ConnectionPool) async throws -> HTTPResponse {
        let filter = try selection(request, caller: caller)
        let bom = try byteOrderMark(request)
        let cursor = try QueryParameters.idCursor(request)
        // The CSV export without a limit is every selected row, streamed.
        if request.representation == .csv, request.query("limit") == nil {
            return try await MeasurementExport.response(pool: pool, filter: filter, after: cursor, bom: bom)
        }
        let limit = try request.pageLimit(max: 10_000)
        let records = try await database(pool, transaction: false) {
            try MeasurementRecords.list($0, filter: filter, after: cursor, limit: limit + 1)
        }
        let page = Array(records.prefix(limit))
        let next = records.count > limit ? page.last.map { String($0.id) } : nil
        let listPage = ListPage(items: page, nextCursor: next)
        if request.representation == .csv {
            // The cursor travels in a header; the body is the rows.
            let document = listPage.json
            var response = CSVDocument.table(
                document, rows: "items", leading: Self.csvLeading, omit: ["next_cursor"]
            ).response(bom: bom)
            if let next { response.headers.add(name: "x-next-cursor", value: next) }
            return response
        }
        return .json(listPage)
    }

    /// The rows a listing selects: its query's filters, and a partner key's own partner only.
    static func selection(_ request: HTTPRequest, caller: Caller) throws -> MeasurementRecords.Filter {
        var filter = MeasurementRecords.Filter(
            indicator: request.query("indicator"), partner: request.query("partner"),
            neighborhood: request.query("neighborhood"), batchID: request.query("batch_id"))
        let bounds = [
            ("from", \MeasurementRecords.Filter.from), ("to", \MeasurementRecords.Filter.to),
            ("period", \MeasurementRecords.Filter.period),
        ]
        for (name, bound) in bounds {
            filter[keyPath: bound] = try QueryParameters.period(request, name)
        }
        filter.partner = try QueryParameters.partner(asked: filter.partner, caller: caller, reading: "measurements")
        return filter
    }

    /// `?bom=`: whether the CSV starts with a byte-order mark (for spreadsheet programs).
    static func byteOrderMark(_ request: HTTPRequest) throws -> Bool {
        switch request.query("bom") {
        case nil, "false": return false
        case "true" where request.representation == .csv: return true
        case "true":
            throw Problem.badRequest(
                "bom=true is for the CSV export (format=csv).", field: "bom", code: "invalid-bom")
        default:
            throw Problem.badRequest("bom must be true or false.", field: "bom", code: "invalid-bom")
        }
    }

    struct HistoryPage: JSONRepresentable {
        var measurementID: Int
        var entries: [HistoryEntry]

        var json: JSONValue {
            .object(["measurement_id": JSONValue(measurementID), "entries": .array(entries.map(\.json))])
        }
    }

    /// Validates and stores a submission; replays the first answer to a repeated Idempotency-Key.
    static func submit(
        _ request: HTTPRequest, caller: Caller, pool: ConnectionPool, metrics: AppMetrics, quality: QualitySettings,
        events: Bool
    ) async throws -> HTTPResponse {
        let (mode, dryRun) = try submissionOptions(request)
        let submission = try SubmissionParser.parse(request)
        let submitter = caller.keyHolder
        do {
            let (response, summary) = try await Idempotency.respond(to: request, keyID: caller.key.id, pool: pool) {
                connection in
                try MeasurementIngestion.submit(
                    connection, parsed: submission, submitter: submitter, mode: mode, dryRun: dryRun, quality: quality,
                    events: events)
            }
            if let summary { metrics.ingested(summary) }
            return response
        } catch let problem as Problem where problem.code == "validation-failed" || problem.code == "period-locked" {
            metrics.rejected(Set(problem.errors.compactMap(\.row)).count)
            throw problem
        }
    }

    /// `?mode=` (all or partial) and `?dry_run=` (true or false).
    private static func submissionOptions(_ request: HTTPRequest) throws -> (MeasurementIngestion.Mode, dryRun: Bool) {
        let mode: MeasurementIngestion.Mode
        switch request.query("mode") {
        case nil, "all": mode = .allOrNothing
        case "partial": mode = .partial
        default: throw Problem.badRequest("mode must be all or partial.", field: "mode", code: "invalid-mode")
        }
        switch request.query("dry_run") {
        case nil, "false": return (mode, false)
        case "true": return (mode, true)
        default: throw Problem.badRequest("dry_run must be true or false.", field: "dry_run", code: "invalid-dry-run")
        }
    }

    /// The export's first columns, in the order a CSV upload names them.
    static let csvLeading = [
        "id", "partner", "indicator", "neighborhood", "period", "value", "numerator", "denominator", "dim.", "note",
    ]
}
