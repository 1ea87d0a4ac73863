import BackboneCore
import Foundation
import HTTPServer
import JSON
import Postgres

/// `/v1/keys`: the coordinator issues, lists and revokes API keys.
struct KeyRoutes {
    let pool: ConnectionPool

    struct IssuedKey: JSONRepresentable {
        var issued: IssuedAPIKey

        var json: JSONValue {
            .object([
                "id": .string(issued.key.id), "secret": .string(issued.secret),
                "role": .string(issued.key.role.rawValue),
                "partner": JSONValue(issued.key.partner), "name": JSONValue(issued.key.name),
                "created_at": JSONValue(issued.key.createdAt),
            ])
        }
    }

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        let authenticator = routes.authenticator
        routes.post("/v1/keys", .coordinator("issue keys")) { request, _ in
            var reader = FieldReader(try request.jsonObject())
            let role = reader.choice("role", Role.allCases.map(\.rawValue), required: true).flatMap(
                Role.init(rawValue:))
            let partner = reader.slug("partner")
            let name = reader.string("name", maxLength: 200)
            reader.rejectUnknownFields()
            if role == .partner, partner == nil, !reader.issues.contains(where: { $0.field == "partner" }) {
                reader.fail("partner", "required", "is required for a partner key")
            }
            if let role, role != .partner, partner != nil {
                reader.fail("partner", "not-allowed", "only partner keys are bound to a partner")
            }
            guard reader.issues.isEmpty, let role else { throw DomainError.invalid(reader.issues) }
            let issued = try await database(pool) { try APIKeys.create($0, role: role, partner: partner, name: name) }
            var response = HTTPResponse.json(IssuedKey(issued: issued), status: .created)
            response.headers.add(name: "location", value: "/v1/keys/\(issued.key.id)")
            return response
        }
        routes.get("/v1/keys", .coordinator("list keys"), query: ["limit", "cursor"]) { request, _ in
            let limit = try request.pageLimit()
            let cursor = request.query("cursor")
            let keys = try await database(pool, transaction: false) {
                try APIKeys.list($0, after: cursor, limit: limit + 1)
            }
            return .json(
                ListPage(items: Array(keys.prefix(limit)), nextCursor: keys.count > limit ? keys[limit - 1].id : nil))
        }
        routes.get("/v1/keys/{id}", .coordinator("read keys")) { _, context in
            let id = context.parameters.require("id")
            guard let key = try await database(pool, transaction: false, { try APIKeys.find($0, id: id) }) else {
                throw Problem.notFound("No key \(id).")
            }
            return .json(key)
        }
        routes.delete("/v1/keys/{id}", .coordinator("revoke keys")) { _, context in
            let id = context.parameters.require("id")
            guard let key = try await database(pool, { try APIKeys.revoke($0, id: id) }) else {
                throw Problem.notFound("No key \(id).")
            }
            // Other processes hear of it by NOTIFY; this one forgets at once.
            authenticator.cache.removeAll()
            return .json(key)
        }
    }
}
