import BackboneCore
import HTTPServer
import JSON
import Postgres

/// `/v1/webhooks`: endpoints that receive events, signed (docs/events.md, "Webhooks"). The
/// coordinator's and partners' keys manage their own endpoints; viewers none.
struct WebhookRoutes {
    let pool: ConnectionPool
    let settings: WebhookSettings

    static let access = Access.partnerOrCoordinator("manage webhooks")

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        let settings = self.settings
        routes.post("/v1/webhooks", Self.access) { request, context in
            let fields = try WebhookBody.fields(try request.jsonObject())
            let owner = context.caller.keyHolder
            let subscription = try await Webhooks.check(
                url: fields.url, events: fields.events, description: fields.description, by: owner, settings: settings)
            let (endpoint, secret) = try await database(pool) { try Webhooks.create($0, subscription) }
            return .json(
                WebhookBody.created(endpoint, secret: secret), status: .created, location: "/v1/webhooks/\(endpoint.id)"
            )
        }
        routes.get("/v1/webhooks", Self.access, query: ["limit", "cursor"]) { request, context in
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit()
            let owner = context.caller.keyHolder
            let page = try await database(pool, transaction: false) {
                try Webhooks.list($0, by: owner, after: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor.map(String.init)))
        }
        routes.get("/v1/webhooks/{id}", Self.access) { _, context in
            let id = try context.parameters.requireID("id", of: "webhook endpoint")
            let owner = context.caller.keyHolder
            return .json(try await database(pool, transaction: false) { try Webhooks.endpoint($0, id: id, by: owner) })
        }
        routes.delete("/v1/webhooks/{id}", Self.access) { _, context in
            let id = try context.parameters.requireID("id", of: "webhook endpoint")
            let owner = context.caller.keyHolder
            return .json(try await database(pool) { try Webhooks.deactivate($0, id: id, by: owner) })
        }
        routes.post("/v1/webhooks/{id}/ping", Self.access) { _, context in
            let id = try context.parameters.requireID("id", of: "webhook endpoint")
            let owner = context.caller.keyHolder
            let event = try await database(pool) { try Webhooks.ping($0, id: id, by: owner) }
            return .json(
                JSONValue.object([
                    "event": JSONValue(event), "type": .string(EventType.ping.rawValue),
                    "webhook_id": .string(WebhookSignature.messageID(event: event)),
                ]), status: .accepted)
        }
        routes.get("/v1/webhooks/{id}/deliveries", Self.access, query: ["limit", "cursor"]) { request, context in
            let id = try context.parameters.requireID("id", of: "webhook endpoint")
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit()
            let owner = context.caller.keyHolder
            let page = try await database(pool, transaction: false) {
                try Webhooks.deliveries($0, endpoint: id, by: owner, before: cursor, limit: limit)
            }
            return .json(ListPage(items: page.items, nextCursor: page.nextCursor.map(String.init)))
        }
        routes.post("/v1/webhooks/{id}/deliveries/{delivery}/redeliver", Self.access) { _, context in
            let id = try context.parameters.requireID("id", of: "webhook endpoint")
            let delivery = try context.parameters.requireID("delivery", of: "delivery")
            let owner = context.caller.keyHolder
            return .json(
                try await database(pool) { try Webhooks.redeliver($0, endpoint: id, delivery: delivery, by: owner) })
        }
    }
}
