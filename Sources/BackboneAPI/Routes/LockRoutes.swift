import BackboneCore
import HTTPServer
import Postgres

/// `/v1/locks`: the coordinator closes and reopens periods.
struct LockRoutes {
    let pool: ConnectionPool

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        routes.post("/v1/locks", .coordinator("lock periods")) { request, context in
            let keyID = context.caller.key.id
            var reader = FieldReader(try request.jsonObject())
            let agenda = reader.slug("agenda")
            let indicator = reader.slug("indicator")
            let period = reader.string("period", required: true, maxLength: 16)
            let reason = reader.string("reason", maxLength: 500)
            reader.rejectUnknownFields()
            guard reader.issues.isEmpty, let period else { throw DomainError.invalid(reader.issues) }
            let lock = try await database(pool) {
                try PeriodLocks.create(
                    $0, agenda: agenda, indicator: indicator, period: period, reason: reason, keyID: keyID)
            }
            var response = HTTPResponse.json(lock, status: .created)
            response.headers.add(name: "location", value: "/v1/locks/\(lock.id)")
            return response
        }
        routes.get("/v1/locks", .anyKey) { _, _ in
            let locks = try await database(pool, transaction: false) { try PeriodLocks.list($0) }
            return .json(ListPage(items: locks, nextCursor: nil))
        }
        routes.delete("/v1/locks/{id}", .coordinator("unlock periods")) { _, context in
            let id = try context.parameters.requireID("id", of: "lock")
            guard try await database(pool, { try PeriodLocks.delete($0, id: id) }) else {
                throw Problem.notFound("No lock \(id).")
            }
            return HTTPResponse(status: .noContent)
        }
    }
}
