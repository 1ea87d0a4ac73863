import BackboneCore
import HTTPServer
import Postgres

/// `/v1/locks`: the coordinator closes and reopens periods.
struct LockRoutes {
    let pool: ConnectionPool
    let authenticator: Authenticator

    func register(in router: inout Router) {
        let pool = self.pool
        let authenticator = self.authenticator
        router.post("/v1/locks") { request in
            let caller = try await authenticator.caller(of: request)
            try caller.requireCoordinator("lock periods")
            var reader = FieldReader(try request.jsonObject())
            let agenda = reader.slug("agenda")
            let indicator = reader.slug("indicator")
            let period = reader.string("period", required: true, maxLength: 16)
            let reason = reader.string("reason", maxLength: 500)
            reader.rejectUnknownFields()
            guard reader.issues.isEmpty, let period else { throw Problem(DomainError.invalid(reader.issues)) }
            let lock = try await database(pool) {
                try PeriodLocks.create($0, agenda: agenda, indicator: indicator, period: period, reason: reason, keyID: caller.key.id)
            }
            var response = HTTPResponse.json(lock, status: .created)
            response.headers.add(name: "location", value: "/v1/locks/\(lock.id)")
            return response
        }
        router.get("/v1/locks") { request in
            _ = try await authenticator.caller(of: request)
            let locks = try await database(pool, transaction: false) { try PeriodLocks.list($0) }
            return .json(ListPage(items: locks, nextCursor: nil))
        }
        router.delete("/v1/locks/{id}") { request in
            try await authenticator.caller(of: request).requireCoordinator("unlock periods")
            guard let id = Int(request.parameter("id")),
                try await database(pool, { try PeriodLocks.delete($0, id: id) })
            else { throw Problem.notFound("No lock \(request.parameter("id")).") }
            return HTTPResponse(status: .noContent)
        }
    }
}
