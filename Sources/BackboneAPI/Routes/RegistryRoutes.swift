import BackboneCore
import DomainModel
import Foundation
import HTTPServer
import JSON
import Postgres

/// `/v1/agendas`, `/v1/indicators`, `/v1/partners`, `/v1/neighborhoods`, `/v1/commitments`:
/// every key reads, the coordinator writes.
struct RegistryRoutes {
    let pool: ConnectionPool
    /// Encoded records by path; every write empties it (here at once, elsewhere by NOTIFY).
    let cache: ChangeAwareCache<String, Data>
    /// What reports keep of the registry; emptied with `cache`.
    let reportCache: ChangeAwareCache<String, any Sendable>

    func register(in routes: inout RouteTable) {
        register(Agenda.self, in: &routes)
        register(Indicator.self, in: &routes)
        register(Partner.self, in: &routes)
        register(Neighborhood.self, in: &routes)
        register(Commitment.self, in: &routes)
    }

    private func register<Record: RegistryRecord & JSONRepresentable>(_: Record.Type, in routes: inout RouteTable) {
        let resource = Record.resource
        let store = RegistryStore<Record>()
        let pool = self.pool
        let cache = self.cache
        let reportCache = self.reportCache
        let changed: @Sendable () -> Void = {
            cache.removeAll()
            reportCache.removeAll()
        }
        let collection = "/v1/\(resource.path)"
        let item = "\(collection)/{key}"

        let write = Access.coordinator("change the registry")
        routes.post(collection, write) { request, _ in
            let changes = try RegistryBody.changes(try request.jsonObject(), for: resource, creating: true)
            let created = try await database(pool) { try store.create($0, changes) }
            changed()
            return .json(created.json, status: .created, location: "\(collection)/\(created.key)")
        }
        let filters = resource.fields.filter(\.filterable).map(\.name)
        routes.get(collection, .anyKey, query: ["limit", "cursor"] + filters) { request, _ in
            let limit = try request.pageLimit()
            let filters = Dictionary(
                request.query.filter { $0.name != "limit" && $0.name != "cursor" }.map { ($0.name, $0.value) },
                uniquingKeysWith: { first, _ in first })
            let cursor = request.query("cursor")
            let page = try await database(pool, transaction: false) {
                try store.list($0, filters: filters, cursor: cursor, limit: limit)
            }
            return .json(
                JSONValue.object(["items": .array(page.items.map(\.json)), "next_cursor": JSONValue(page.nextCursor)]))
        }
        // A cached record answers inside the event loop's read; a miss reads the primary (a
        // replica's older record, cached, would outlive the notification that empties the cache).
        routes.get(
            item, .anyKey,
            immediate: { request, _ in
                cache.cachedValue(for: request.path).map { HTTPResponse(contentType: "application/json", body: $0) }
            }, onPrimary: true,
            { request, context in
                let key = context.parameters.require("key")
                let body = try await cache.value(for: request.path) {
                    Data(try await database(pool, transaction: false) { try store.get($0, key: key) }.json.jsonBytes)
                }
                return HTTPResponse(contentType: "application/json", body: body ?? Data())
            })
        routes.patch(item, write) { request, context in
            let changes = try RegistryBody.changes(try request.jsonObject(), for: resource, creating: false)
            let key = context.parameters.require("key")
            let updated = try await database(pool) { try store.update($0, key: key, changes) }
            changed()
            return .json(updated.json)
        }
        routes.delete(item, write) { _, context in
            let key = context.parameters.require("key")
            let remaining = try await database(pool) { try store.deactivate($0, key: key) }
            changed()
            guard let remaining else {
                return HTTPResponse(status: .noContent)
            }
            return .json(remaining.json)
        }
    }
}
