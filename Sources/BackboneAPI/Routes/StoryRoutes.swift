import Aggregation
import BackboneCore
import HTTPServer
import JSON
import Postgres

/// `/v1/stories/{indicator}/{period}`: the story behind the curve (docs/stories.md). The
/// coordinator writes and restores versions; every key reads the story in force and the
/// versions written for a period, and `/v1/stories?agenda=&period=` the stories in force for an agenda.
struct StoryRoutes {
    let pool: ConnectionPool

    func register(in routes: inout RouteTable) {
        let pool = self.pool
        let story = "/v1/stories/{indicator}/{period}"
        routes.put(story, .coordinator("write stories"), query: ["neighborhood"]) { request, context in
            let address = try Self.address(request, context)
            let text = try StoryBody.text(try request.jsonObject())
            let keyID = context.caller.key.id
            let saved = try await database(pool) { try Stories.save($0, address, text: text, keyID: keyID) }
            return .json(StoryJSON(saved.version), status: saved.first ? .created : .ok)
        }
        routes.get(story, .anyKey, query: ["neighborhood"]) { request, context in
            let address = try Self.address(request, context)
            let found = try await database(pool, transaction: false) { try Stories.story($0, address) }
            return .json(StoryJSON(found, for: address.period))
        }
        routes.get("/v1/stories", .anyKey, query: ["agenda", "period", "neighborhood"]) { request, _ in
            let agenda = try QueryParameters.required(request, "agenda")
            guard let period = try QueryParameters.period(request, "period", required: true) else {
                throw Problem.badRequest("period is required.", field: "period", code: "required")
            }
            let neighborhood = request.query("neighborhood")
            let stories = try await database(pool, transaction: false) {
                try Stories.inForce($0, agenda: agenda, period: period, neighborhood: neighborhood)
            }
            return .json(
                StoriesInForceJSON(agenda: agenda, period: period, neighborhood: neighborhood, stories: stories))
        }
        routes.get("\(story)/history", .anyKey, query: ["neighborhood", "limit", "cursor"]) { request, context in
            let address = try Self.address(request, context)
            let cursor = try QueryParameters.idCursor(request)
            let limit = try request.pageLimit()
            let page = try await database(pool, transaction: false) {
                try Stories.history($0, address, before: cursor, limit: limit)
            }
            return .json(
                ListPage(items: page.items.map { StoryJSON($0) }, nextCursor: page.nextCursor.map(String.init)))
        }
        routes.post("\(story)/history/{version}/restore", .coordinator("restore stories"), query: ["neighborhood"]) {
            request, context in
            let address = try Self.address(request, context)
            let version = try context.parameters.requireID("version", of: "story version")
            let keyID = context.caller.key.id
            let restored = try await database(pool) {
                try Stories.restore($0, address, version: version, keyID: keyID)
            }
            return .json(StoryJSON(restored), status: .created)
        }
    }

    /// The story a request addresses: the indicator and period in its path, the neighborhood in its query.
    static func address(_ request: HTTPRequest, _ context: RequestContext) throws -> Stories.Address {
        let text = context.parameters.require("period")
        guard let period = Period(text) else {
            throw DomainError.invalid(
                field: "period", code: "malformed-period",
                "\(text.prefix(40).debugDescription) is not a period; write 2026, 2026-Q3, 2026-10 or 2026-W05")
        }
        return Stories.Address(
            indicator: context.parameters.require("indicator"), period: period,
            neighborhood: request.query("neighborhood"))
    }
}
