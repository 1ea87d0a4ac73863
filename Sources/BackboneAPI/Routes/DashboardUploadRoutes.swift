import Aggregation
import BackboneCore
import Dashboard
import DataQuality
import Foundation
import HTTPServer
import NIOHTTP1
import Postgres

/// `/dashboard/upload`: the partners' upload page. A signed-in partner (or the coordinator)
/// downloads the template, posts the filled file through a form (`multipart/form-data`),
/// reads its dry run as a table and stores it with one button. Both posts go through the
/// same code as `POST /v1/measurements` with CSV (`SubmissionParser`, `MeasurementIngestion`);
/// the store is idempotent under a key generated with the dry run (`Idempotency`).
struct DashboardUploadRoutes {
    let dashboard: DashboardRoutes
    let metrics: AppMetrics
    /// The checks at the door, set as for `POST /v1/measurements`.
    let quality: QualitySettings
    /// Whether stored batches write their events, as for `POST /v1/measurements`.
    let submissionEvents: Bool

    /// How many rows of a file the dry run's table shows from the top; every row with a
    /// problem is shown too, up to `maxShownRows` in all (a page of 100,000 rows helps no one).
    static let leadingRows = 200
    static let maxShownRows = 1000
    /// How many outliers get their series' history on the page (each is one indexed read).
    static let maxHistories = 50

    func register(in table: inout RouteTable) {
        let routes = self

        let identify = dashboard.identifier
        table.get("/dashboard/upload", identifying: identify, offers: [DashboardRoutes.html]) { request, context in
            try await routes.asUploader(request, caller: context.authenticated) { _, uploader in
                DashboardRoutes.page(UploadPage.form(uploader))
            }
        }

        table.get(
            "/dashboard/upload/template.csv", identifying: identify, query: ["agenda"], offers: [TemplateRoutes.csv]
        ) { request, context in
            try await routes.asUploader(request, caller: context.authenticated) {
                caller, uploader in
                guard
                    let agenda = request.query("agenda") ?? (uploader.agendas.count == 1 ? uploader.agendas[0].id : nil)
                else {
                    throw Problem.badRequest("Choose the agenda whose template to download.", field: "agenda")
                }
                let partner = caller.key.partner
                let template = try await database(routes.dashboard.pool, transaction: false) {
                    try UploadTemplate.load($0, agenda: agenda, indicator: nil, partner: partner)
                }
                return TemplateRoutes.response(template, filename: "\(agenda)-template.csv")
            }
        }

        // The body limit is the server's, as for `POST /v1/measurements`: a body over it is
        // refused on its head, and so is a viewer's post, before the body is read.
        table.post("/dashboard/upload", admitting: routes.poster) { request, context in
            if let refusal = DashboardRoutes.crossSiteRefusal(request) { return refusal }
            return try await routes.asUploader(request, caller: context.authenticated) { caller, uploader in
                try await routes.review(request, caller: caller, uploader: uploader)
            }
        }

        table.post("/dashboard/upload/store", admitting: routes.poster) { request, context in
            if let refusal = DashboardRoutes.crossSiteRefusal(request) { return refusal }
            return try await routes.asUploader(request, caller: context.authenticated) { caller, uploader in
                try await routes.store(request, caller: caller, uploader: uploader)
            }
        }
    }

    /// The caller of a form post, found on its head: a viewer's post is refused (403) before its body is read.
    @Sendable func poster(_ request: HTTPRequest) async throws -> Caller? {
        let caller = try await dashboard.identify(request)
        if caller?.role == .viewer {
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A viewer key cannot upload measurements; sign in with a partner or coordinator key.")
        }
        return caller
    }

    /// Runs `body` for a signed-in partner or coordinator: without a session, on to the
    /// sign-in form; a viewer is refused with a page. A problem `body` meets (a file that
    /// cannot be read, a malformed form) is shown on the upload page with its status.
    func asUploader(
        _ request: HTTPRequest, caller: Caller?, _ body: (Caller, UploadModel.Uploader) async throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        guard let caller else { return DashboardRoutes.signInAgain(request) }
        guard caller.role != .viewer else {
            return DashboardRoutes.page(
                MessagePage.html(
                    title: "Viewers cannot upload",
                    message:
                        "A viewer key reads shared aggregates only. Sign in with your organisation's partner key to upload measurements."
                ), status: .forbidden)
        }
        let partner = caller.key.partner
        let uploader = try await database(dashboard.pool, transaction: false) { connection in
            UploadModel.Uploader(
                partnerName: try partner.map {
                    try DashboardSource.names(connection, Partner.self, name: \.name)[$0] ?? $0
                }, agendas: try DashboardSource.agendas(connection))
        }
        do {
            return try await body(caller, uploader)
        } catch {
            guard let problem = (error as? Problem) ?? Problem.translating(error), problem.status.code < 500 else {
                throw error
            }
            let refusal = UploadModel.Refusal(
                title: problem.title, message: problem.detail ?? problem.title, issues: problem.errors)
            return DashboardRoutes.page(UploadPage.form(uploader, refusal: refusal), status: problem.status)
        }
    }

    /// `POST /dashboard/upload`: the file's dry run as a table, with the store button.
    func review(_ request: HTTPRequest, caller: Caller, uploader: UploadModel.Uploader) async throws -> HTTPResponse {
        let form = try Self.form(request, fields: ["file", "mode"])
        guard let file = form["file"], let fileName = file.filename else {
            throw Problem.badRequest("Choose the CSV file to upload.", field: "file", code: "missing-file")
        }
        let isPartial = try Self.mode(form) == .partial
        let submission = try SubmissionParser.parseCSV(file.body)
        let submitter = caller.keyHolder
        let quality = self.quality
        // Dry run in mode `partial`, whatever is chosen: the page shows what the valid rows
        // would do beside every error; in mode `all` it offers no store until the errors are fixed.
        let (summary, history) = try await database(dashboard.pool) { connection in
            let summary = try MeasurementIngestion.submit(
                connection, parsed: submission, submitter: submitter, mode: .partial, dryRun: true, quality: quality)
            return (
                summary, try Self.history(connection, of: summary.warnings, in: submission, partner: submitter.partner)
            )
        }
        let rowsWithProblems = Set(summary.errors.compactMap(\.row) + summary.warnings.compactMap(\.row))
        var shown = 0
        let (header, rows) = try SubmissionParser.csvCells(file.body) { row in
            guard shown < Self.maxShownRows, row <= Self.leadingRows || rowsWithProblems.contains(row) else {
                return false
            }
            shown += 1
            return true
        }
        let review = UploadModel.Review(
            fileName: fileName, isPartial: isPartial,
            columns: header.map { ($0, SubmissionParser.field(ofColumn: $0)) }, firstLine: submission.firstLine ?? 1,
            rows: rows.map { UploadModel.Review.Row(number: $0.row, cells: $0.fields) },
            rowsLeftOut: summary.received - rows.count, counts: Self.counts(summary), errors: summary.errors,
            warnings: summary.warnings, history: history,
            content: String(decoding: file.body, as: UTF8.self), idempotencyKey: UUID().uuidString.lowercased())
        return DashboardRoutes.page(UploadPage.review(uploader, review))
    }

    /// `POST /dashboard/upload/store`: stores the reviewed file once; a repeat of the same
    /// form (a double click) shows the first answer's page again.
    func store(_ request: HTTPRequest, caller: Caller, uploader: UploadModel.Uploader) async throws -> HTTPResponse {
        let form = try Self.form(request, fields: ["idempotency_key", "mode", "file_name", "content"])
        guard let key = try Idempotency.validated(form["idempotency_key"]?.text()) else {
            throw Problem.badRequest(
                "The form has no idempotency_key: check the file again and store it from its dry run.",
                field: "idempotency_key", code: "invalid-idempotency-key")
        }
        guard let content = form["content"]?.body else {
            throw Problem.badRequest("The form has no file content.", field: "content", code: "missing-file")
        }
        let mode = try Self.mode(form)
        let fileName = try form["file_name"]?.text() ?? "upload.csv"
        let submission = try SubmissionParser.parseCSV(content)
        let submitter = caller.keyHolder
        let quality = self.quality
        let events = submissionEvents
        let fingerprint = "POST /dashboard/upload/store mode=\(mode.rawValue) \(fileName)\n"
        let (stored, summary) = try await Idempotency.once(
            key: key, keyID: caller.key.id, pool: dashboard.pool,
            fingerprint: fingerprint + String(decoding: content, as: UTF8.self)
        ) { connection in
            let summary = try MeasurementIngestion.submit(
                connection, parsed: submission, submitter: submitter, mode: mode, dryRun: false, quality: quality,
                events: events)
            let page = UploadPage.stored(
                uploader,
                UploadModel.Stored(
                    fileName: fileName, batchID: summary.batchID, isPartial: mode == .partial,
                    counts: Self.counts(summary), errors: summary.errors, warnings: summary.warnings))
            return (Idempotency.StoredResponse(status: 200, body: page), summary)
        }
        if let summary { metrics.ingested(summary) }
        var response = DashboardRoutes.page(stored.body, status: HTTPResponseStatus(statusCode: stored.status))
        if summary == nil { response.headers.add(name: "idempotent-replayed", value: "true") }
        return response
    }

    /// The posted form, holding only the named fields (any other is refused, naming it).
    static func form(_ request: HTTPRequest, fields: Set<String>) throws -> MultipartForm {
        let form = try MultipartForm(request)
        if let unknown = form.names.first(where: { !fields.contains($0) }) {
            throw Problem.badRequest(
                "The form has a field \(unknown) this page does not send.", field: unknown, code: "unknown-field")
        }
        return form
    }

    /// The form's `mode`: `all` (the default) or `partial`.
    static func mode(_ form: MultipartForm) throws -> MeasurementIngestion.Mode {
        guard let text = try form["mode"]?.text() else { return .allOrNothing }
        guard let mode = MeasurementIngestion.Mode(rawValue: text) else {
            throw Problem.badRequest("mode must be all or partial.", field: "mode", code: "invalid-mode")
        }
        return mode
    }

    static func counts(_ summary: ImportSummary) -> UploadModel.Counts {
        UploadModel.Counts(
            received: summary.received, created: summary.created, updated: summary.updated,
            unchanged: summary.unchanged, rejected: summary.rejected)
    }

    /// Each outlier row's series history (its latest earlier values), for the first `maxHistories` outliers.
    static func history(
        _ connection: Connection, of warnings: [QualityWarning], in submission: Submission, partner: String?
    ) throws -> [Int: [(period: String, value: Double)]] {
        let outlierRows = Set(warnings.filter { $0.code == .outlier }.compactMap(\.row)).sorted().prefix(maxHistories)
        guard !outlierRows.isEmpty else { return [:] }
        let rows = Dictionary(submission.rows.map { ($0.row, $0) }, uniquingKeysWith: { first, _ in first })
        var history: [Int: [(period: String, value: Double)]] = [:]
        for number in outlierRows {
            guard let row = rows[number], let partner = row.partner ?? partner, let indicator = row.indicator,
                let neighborhood = row.neighborhood, let period = row.period.flatMap(Period.init)
            else { continue }
            history[number] = try OutlierHistory.recent(
                connection, indicator: indicator, partner: partner, neighborhood: neighborhood,
                dimensions: row.dimensions, before: period, limit: UploadPage.historyLength)
        }
        return history
    }
}
