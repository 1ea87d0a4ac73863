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

    static let resources: [RegistryResource] = [.agendas, .indicators, .partners, .neighborhoods, .commitments]

    func register(in router: inout Router) {
        for resource in Self.resources { register(resource, in: &router) }
    }

    private func register(_ resource: RegistryResource, in router: inout Router) {
        let store = RegistryStore(resource)
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
            let key = created.objectValue?[resource.key.name].map(Self.keyText) ?? ""
            return try .json(created, status: .created, location: "\(collection)/\(key)")
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
            return try .json(ListPage(items: page.items, nextCursor: page.nextCursor))
        }
        router.get(item) { request in
            _ = try await authenticator.caller(of: request)
            let key = request.parameter("key")
            let body = try await cache.value(for: request.path) {
                Data(try await database(pool, transaction: false) { try store.get($0, key: key) }.jsonBytes)
            }
            return HTTPResponse(contentType: "application/json", body: body ?? Data())
        }
        router.patch(item) { request in
            try await authenticator.caller(of: request).requireCoordinator("change the registry")
            let body = try request.jsonObject()
            let key = request.parameter("key")
            let updated = try await database(pool) { try store.update($0, key: key, body: body) }
            cache.removeAll()
            return try .json(updated)
        }
        router.delete(item) { request in
            try await authenticator.caller(of: request).requireCoordinator("change the registry")
            let key = request.parameter("key")
            let remaining = try await database(pool) { try store.deactivate($0, key: key) }
            cache.removeAll()
            guard let remaining else {
                return HTTPResponse(status: .noContent)
            }
            return try .json(remaining)
        }
    }

    static func keyText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .number(let number): return String(Int(number))
        default: return ""
        }
    }
}

/// A page of a list: the items and the cursor that fetches the next page (null on the last).
struct ListPage<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
