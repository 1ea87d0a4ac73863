import BackboneCore
import HTTPServer
import JSON
import Postgres

/// `/v1/rules`: validation rules (docs/quality.md). Every key reads them, the coordinator
/// writes them and reads their history.
struct RuleRoutes {
    let pool: ConnectionPool

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        let write = Access.coordinator("change validation rules")
        routes.post("/v1/rules", write) { request, context in
            let fields = try RuleBody.fields(try request.jsonObject(), creating: true)
            let keyID = context.caller.key.id
            let created = try await database(pool) { try RuleStore.create($0, fields, keyID: keyID) }
            return .json(created, status: .created, location: "/v1/rules/\(created.id)")
        }
        routes.get("/v1/rules", .anyKey, query: ["limit", "cursor", "agenda", "active"]) { request, _ in
            let limit = try request.pageLimit()
            let cursor = request.query("cursor")
            let agenda = request.query("agenda")
            let active = try request.query("active").map { text in
                guard let flag = Bool(text) else {
                    throw DomainError.malformed(code: "invalid-filter", "active must be true or false")
                }
                return flag
            }
            let page = try await database(pool, transaction: false) {
                try RuleStore.list($0, agenda: agenda, active: active, cursor: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor))
        }
        routes.get("/v1/rules/{id}", .anyKey) { _, context in
            let id = context.parameters.require("id")
            return .json(try await database(pool, transaction: false) { try RuleStore.rule($0, id: id) })
        }
        routes.patch("/v1/rules/{id}", write) { request, context in
            let fields = try RuleBody.fields(try request.jsonObject(), creating: false)
            let id = context.parameters.require("id")
            let keyID = context.caller.key.id
            return .json(try await database(pool) { try RuleStore.update($0, id: id, fields, keyID: keyID) })
        }
        routes.delete("/v1/rules/{id}", write) { _, context in
            let id = context.parameters.require("id")
            let keyID = context.caller.key.id
            return .json(try await database(pool) { try RuleStore.deactivate($0, id: id, keyID: keyID) })
        }
        routes.get(
            "/v1/rules/{id}/history", .coordinator("read a rule's history"), query: ["limit", "cursor"]
        ) { request, context in
            let id = context.parameters.require("id")
            let limit = try request.pageLimit()
            let cursor = request.query("cursor")
            let page = try await database(pool, transaction: false) {
                try RuleStore.history($0, id: id, cursor: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor))
        }
    }
}
