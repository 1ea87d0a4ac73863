import Aggregation
import BackboneCore
import HTTPServer
import Postgres

/// `/v1/releases`: the coordinator publishes a period; every key lists what was published.
struct ReleaseRoutes {
    let pool: ConnectionPool
    /// The protection a release computes for partner and viewer keys.
    let suppression: SuppressionPolicy

    func register(in routes: inout RouteTable) {
        let (pool, suppression) = (self.pool, self.suppression)
        routes.post("/v1/releases", .coordinator("release periods")) { request, context in
            let keyID = context.caller.key.id
            var reader = FieldReader(try request.jsonObject())
            let agenda = reader.slug("agenda", required: true)
            let period = reader.string("period", required: true, maxLength: 16)
            reader.rejectUnknownFields()
            guard reader.issues.isEmpty, let agenda, let period else { throw DomainError.invalid(reader.issues) }
            let release = try await database(pool) {
                try Releases.create(
                    $0, agenda: agenda, period: period, keyID: keyID, automatic: false, policy: suppression)
            }
            var response = HTTPResponse.json(release, status: .created)
            response.headers.add(name: "location", value: "/v1/releases?agenda=\(agenda)")
            return response
        }
        routes.get("/v1/releases", .anyKey, query: ["agenda"]) { request, _ in
            let agenda = request.query("agenda")
            let releases = try await database(pool, transaction: false) { try Releases.list($0, agenda: agenda) }
            return .json(ListPage(items: releases, nextCursor: nil))
        }
    }
}
