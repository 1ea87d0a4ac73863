import Aggregation
import BackboneCore
import HTTPServer
import JSON
import Postgres

/// `/v1/contributions`: what partners say about an indicator and period (docs/stories.md).
/// A partner key writes, changes and withdraws its own; the coordinator reads all and quotes
/// them; other partners and viewers read only the quoted ones.
struct ContributionRoutes {
    let pool: ConnectionPool

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        routes.post("/v1/contributions", .partner("post contributions")) { request, context in
            var reader = FieldReader(try request.jsonObject())
            let indicator = reader.slug("indicator", required: true)
            let period = reader.period("period", required: true)
            let text = reader.string("text", required: true, maxLength: Contribution.maximumLength)
            reader.rejectUnknownFields()
            guard reader.issues.isEmpty, let indicator, let period, let text else {
                throw DomainError.invalid(reader.issues)
            }
            let author = context.caller.keyHolder
            let created = try await database(pool) {
                try Contributions.create($0, indicator: indicator, period: period, text: text, by: author)
            }
            return .json(created, status: .created, location: "/v1/contributions/\(created.id)")
        }
        routes.get(
            "/v1/contributions", .anyKey, query: ["indicator", "period", "partner", "quoted", "limit", "cursor"]
        ) { request, context in
            let filter = try Self.filter(request)
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit()
            let reader = Self.reader(context.caller)
            let page = try await database(pool, transaction: false) {
                try Contributions.list($0, filter: filter, reader: reader, after: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor.map(String.init)))
        }
        routes.get("/v1/contributions/{id}", .anyKey) { _, context in
            let id = try context.parameters.requireID("id", of: "contribution")
            let reader = Self.reader(context.caller)
            guard
                let found = try await database(
                    pool, transaction: false, { try Contributions.find($0, id: id, reader: reader) })
            else { throw Problem.notFound("No contribution \(id).") }
            return .json(found)
        }
        routes.patch("/v1/contributions/{id}", .rawData) { request, context in
            let id = try context.parameters.requireID("id", of: "contribution")
            var reader = FieldReader(try request.jsonObject())
            if reader.object["quoted"] == .null { reader.fail("quoted", "required", "must not be null") }
            let quoted = reader.bool("quoted")
            let text = reader.string(
                "text", required: reader.has("text"), maxLength: Contribution.maximumLength)
            reader.rejectUnknownFields()
            guard reader.issues.isEmpty else { throw DomainError.invalid(reader.issues) }
            if quoted == nil, text == nil {
                throw DomainError.invalid(
                    field: "quoted", code: "required", "give quoted (coordinator) or text (partner)")
            }
            let editor = context.caller.keyHolder
            return .json(
                try await database(pool) {
                    try Contributions.update($0, id: id, text: text, quoted: quoted, by: editor)
                })
        }
        routes.delete("/v1/contributions/{id}", .rawData) { _, context in
            let id = try context.parameters.requireID("id", of: "contribution")
            let editor = context.caller.keyHolder
            try await database(pool) { try Contributions.withdraw($0, id: id, by: editor) }
            return HTTPResponse(status: .noContent)
        }
    }

    /// The listing's filters.
    static func filter(_ request: HTTPRequest) throws -> Contributions.Filter {
        var filter = Contributions.Filter()
        filter.indicator = request.query("indicator")
        filter.period = try QueryParameters.period(request, "period")
        filter.partner = request.query("partner")
        filter.quoted = try request.query("quoted").map { text in
            guard let flag = Bool(text) else {
                throw Problem.badRequest("quoted must be true or false.", field: "quoted", code: "invalid-filter")
            }
            return flag
        }
        return filter
    }

    /// Which contributions the caller may read.
    static func reader(_ caller: Caller) -> Contributions.Reader {
        if caller.isCoordinator { return .coordinator }
        return caller.key.partner.map { .partner($0) } ?? .viewer
    }
}
