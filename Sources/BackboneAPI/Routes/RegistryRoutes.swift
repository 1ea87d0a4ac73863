import Foundation
import BackboneCore
import HTTPServer
import Postgres

/// `/v1/agendas`, `/v1/indicators`, `/v1/partners`, `/v1/neighborhoods`, `/v1/commitments`:
/// every key reads, the coordinator writes.
struct RegistryRoutes {
    let pool: ConnectionPool
    let authenticator: Authenticator
    /// Encoded records by path; every write empties it (here at once, elsewhere by NOTIFY).
    let cache: ChangeAwareCache<String, Data>

    func register(in router: inout Router) {
        register(Agenda.self, in: &router)
        register(Indicator.self, in: &router)
        register(Partner.self, in: &router)
        register(Neighborhood.self, in: &router)
        register(Commitment.self, in: &router)
    }

    private func register<Record: RegistryRecord & JSONRepresentable>(_: Record.Type, in router: inout Router) {
        let resource = Record.resource
        let store = RegistryStore<Record>()
        let pool = self.pool
        let authenticator = self.authenticator
        let cache = self.cache
        let collection = "/v1/\(resource.path)"
        let item = "\(collection)/{key}"

        router.post(collection) { request in
            try await authenticator.caller(of: request).requireCoordinator("change the registry")
            let body = try request.jsonObject()
            let created = try await database(pool) { try store.create($0, body: body) }
            cache.removeAll()
            return .json(created.json, status: .created, location: "\(collection)/\(created.key)")
        }
        let filters = resource.fields.filter(\.filterable).map(\.name)
        router.get(collection, query: ["limit", "cursor"] + filters) { request in
            _ = try await authenticator.caller(of: request)
            let limit = try request.pageLimit()
            let filters = Dictionary(
                request.query.filter { $0.name != "limit" && $0.name != "cursor" }.map { ($0.name, $0.value) },
                uniquingKeysWith: { first, _ in first })
            let cursor = request.query("cursor")
            let page = try await database(pool, transaction: false) {
                try store.list($0, filters: filters, cursor: cursor, limit: limit)
            }
            return .json(JSONValue.object(["items": .array(page.items.map(\.json)), "next_cursor": JSONValue(page.nextCursor)]))
        }
        router.get(item) { request in
            _ = try await authenticator.caller(of: request)
            let key = request.parameter("key")
            let body = try await cache.value(for: request.path) {
                Data(try await database(pool, transaction: false) { try store.get($0, key: key) }.json.jsonBytes)
            }
            return HTTPResponse(contentType: "application/json", body: body ?? Data())
        }
        router.patch(item) { request in
            try await authenticator.caller(of: request).requireCoordinator("change the registry")
            let body = try request.jsonObject()
            let key = request.parameter("key")
            let updated = try await database(pool) { try store.update($0, key: key, body: body) }
            cache.removeAll()
            return .json(updated.json)
        }
        router.delete(item) { request in
            try await authenticator.caller(of: request).requireCoordinator("change the registry")
            let key = request.parameter("key")
            let remaining = try await database(pool) { try store.deactivate($0, key: key) }
            cache.removeAll()
            guard let remaining else {
                return HTTPResponse(status: .noContent)
            }
            return .json(remaining.json)
        }
    }
}
