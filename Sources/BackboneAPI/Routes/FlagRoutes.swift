import Aggregation
import BackboneCore
import DataQuality
import HTTPServer
import JSON
import Postgres

/// `/v1/flags`: warnings on stored values and their trail. The coordinator reads and answers
/// every flag, a partner key its own partner's; a viewer none (a flag names one partner's value).
/// `POST /v1/rules/{id}/evaluate` opens the flags a rule finds in data stored before it.
struct FlagRoutes {
    let pool: ConnectionPool

    static let filters = ["agenda", "partner", "indicator", "status", "kind", "from", "to"]

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        routes.get("/v1/flags", .rawData, query: Self.filters + ["limit", "cursor"], offers: [.json, .csv]) {
            request, context in
            let filter = try Self.filter(request, caller: context.caller)
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit(max: 10_000)
            let page = try await database(pool, transaction: false) {
                try QualityFlags.list($0, filter: filter, after: cursor, limit: limit)
            }
            guard request.representation == .csv else { return .json(page) }
            let rows = JSONValue.object(["items": .array(page.items.map { $0.json(withHistory: false) })])
            var response = CSVDocument.table(rows, rows: "items", leading: Self.csvLeading).response(bom: false)
            response.headers.add(name: "x-total-count", value: String(page.total))
            if let next = page.nextCursor { response.headers.add(name: "x-next-cursor", value: String(next)) }
            return response
        }
        routes.get("/v1/flags/{id}", .rawData) { _, context in
            let id = try context.parameters.requireID("id", of: "flag")
            let partner = context.caller.key.partner
            guard
                let flag = try await database(
                    pool, transaction: false, { try QualityFlags.find($0, id: id, visibleTo: partner) })
            else { throw Problem.notFound("No flag \(id).") }
            return .json(flag)
        }
        routes.patch("/v1/flags/{id}", .rawData) { request, context in
            let id = try context.parameters.requireID("id", of: "flag")
            var reader = FieldReader(try request.jsonObject())
            let status = reader.choice("status", QualityFlag.Status.self)
            let note = reader.string("note", maxLength: 2000)
            reader.rejectUnknownFields()
            guard reader.issues.isEmpty else { throw DomainError.invalid(reader.issues) }
            if status == nil, note == nil {
                throw DomainError.invalid(field: "status", code: "required", "give a status, a note, or both")
            }
            let answerer = context.caller.keyHolder
            let flag = try await database(pool) {
                try QualityFlags.answer($0, id: id, status: status, note: note, by: answerer)
            }
            return .json(flag)
        }
        routes.post("/v1/rules/{id}/evaluate", .coordinator("evaluate rules"), query: ["from", "to"]) {
            request, context in
            let id = context.parameters.require("id")
            let range = try QueryParameters.range(request)
            let keyID = context.caller.key.id
            let sweep = try await database(pool) {
                try RuleSweep.evaluate($0, rule: id, from: range.from, to: range.to, keyID: keyID)
            }
            return .json(sweep)
        }
    }

    /// The listing's filters; a partner key sees only its own partner's flags.
    static func filter(_ request: HTTPRequest, caller: Caller) throws -> QualityFlags.Filter {
        var filter = QualityFlags.Filter()
        filter.agenda = request.query("agenda")
        filter.partner = request.query("partner")
        filter.indicator = request.query("indicator")
        if let status = request.query("status") {
            guard let known = QualityFlag.Status(rawValue: status) else {
                throw Problem.badRequest(
                    "status must be open, explained, confirmed or corrected.", field: "status", code: "invalid-status")
            }
            filter.status = known
        }
        if let kind = request.query("kind") {
            guard let known = QualityFlag.Kind(rawValue: kind) else {
                throw Problem.badRequest("kind must be outlier or rule.", field: "kind", code: "invalid-kind")
            }
            filter.kind = known
        }
        filter.from = try QueryParameters.period(request, "from")
        filter.to = try QueryParameters.period(request, "to")
        filter.partner = try QueryParameters.partner(asked: filter.partner, caller: caller, reading: "flags")
        return filter
    }

    static let csvLeading = [
        "id", "measurement", "partner", "indicator", "neighborhood", "period", "kind", "rule", "score", "expected_low",
        "expected_high", "message", "status", "note",
    ]
}
