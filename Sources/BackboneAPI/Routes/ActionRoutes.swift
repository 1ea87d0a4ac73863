import Aggregation
import BackboneCore
import HTTPServer
import JSON
import Postgres

/// `/v1/actions`: the action plan (docs/actions.md). Every key reads it; the coordinator
/// creates actions and changes any field; the owning partner changes `status` and `note`.
struct ActionRoutes {
    let pool: ConnectionPool

    static let filters = ["agenda", "indicator", "owner", "status", "overdue"]

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        routes.post("/v1/actions", .coordinator("create actions")) { request, context in
            let fields = try ActionBody.fields(try request.jsonObject(), creating: true)
            let keyID = context.caller.key.id
            let created = try await database(pool) { try Actions.create($0, fields, keyID: keyID) }
            return .json(created, status: .created, location: "/v1/actions/\(created.id)")
        }
        routes.get("/v1/actions", .anyKey, query: Self.filters + ["limit", "cursor"]) { request, _ in
            let filter = try Self.filter(request)
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit()
            let page = try await database(pool, transaction: false) {
                try Actions.list($0, filter: filter, after: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor.map(String.init)))
        }
        routes.get("/v1/actions/{id}", .anyKey) { _, context in
            let id = try context.parameters.requireID("id", of: "action")
            return .json(try await database(pool, transaction: false) { try Actions.action($0, id: id) })
        }
        routes.patch("/v1/actions/{id}", .partnerOrCoordinator("update actions")) { request, context in
            let id = try context.parameters.requireID("id", of: "action")
            let fields = try ActionBody.fields(try request.jsonObject(), creating: false)
            let editor = context.caller.keyHolder
            if editor.partner != nil { try Self.refuseCoordinatorFields(fields) }
            return .json(try await database(pool) { try Actions.update($0, id: id, fields, by: editor) })
        }
        routes.get("/v1/actions/{id}/history", .anyKey, query: ["limit", "cursor"]) { request, context in
            let id = try context.parameters.requireID("id", of: "action")
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit()
            let page = try await database(pool, transaction: false) {
                try Actions.history($0, id: id, after: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor.map(String.init)))
        }
    }

    /// A partner key's PATCH naming fields other than `status` and `note`: 403 listing each.
    static func refuseCoordinatorFields(_ fields: ActionFields) throws {
        let refused = fields.coordinatorOnlyFields
        guard !refused.isEmpty else { return }
        throw Problem(
            status: .forbidden, code: "forbidden", title: "Forbidden",
            detail: "A partner key changes an action's status and note only; the coordinator changes the rest.",
            errors: refused.map {
                Problem.FieldError(field: $0, code: "coordinator-only", message: "only the coordinator changes it")
            })
    }

    /// The listing's filters; a value that is not one of the field's is a 400 naming it.
    static func filter(_ request: HTTPRequest) throws -> Actions.Filter {
        var filter = Actions.Filter(today: Period.today())
        filter.agenda = request.query("agenda")
        filter.indicator = request.query("indicator")
        filter.owner = request.query("owner")
        if let status = request.query("status") {
            guard let known = ActionStatus(rawValue: status) else {
                throw Problem.badRequest(
                    "status must be planned, in_progress, done or dropped.", field: "status", code: "invalid-status")
            }
            filter.status = known
        }
        if let overdue = request.query("overdue") {
            guard let flag = Bool(overdue) else {
                throw Problem.badRequest("overdue must be true or false.", field: "overdue", code: "invalid-filter")
            }
            filter.overdue = flag
        }
        return filter
    }
}
