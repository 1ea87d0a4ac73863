import Aggregation
import BackboneCore
import Dashboard
import Foundation
import HTTPServer
import JSON
import Postgres

/// The board packet (docs/packets.md): computed on request as JSON
/// (`/v1/reports/board-packet`) or as a page made to be printed (`/dashboard/board-packet`),
/// and frozen as publications (`/v1/publications`) whose bytes never change.
struct PacketRoutes {
    let pool: ConnectionPool
    let dashboard: DashboardRoutes

    /// How many indicators' pages one packet gathers at once (each on its own pooled connection).
    static let parallelPages = 3
    static let html = DashboardRoutes.html

    func register(in routes: inout RouteTable) {
        let packets = self
        routes.get("/v1/reports/board-packet", .anyKey, query: ["agenda", "period", "audience"]) { request, context in
            let question = try Self.question(request, isCoordinator: context.caller.isCoordinator)
            let packet = try await packets.live(question)
            return .json(BoardPacketJSON.json(packet))
        }
        routes.get(
            "/dashboard/board-packet", identifying: dashboard.identifier, query: ["agenda", "period", "audience"],
            offers: [Self.html]
        ) { request, context in
            guard let caller = context.authenticated else {
                return DashboardRoutes.signInAgain(request)
            }
            return try await DashboardRoutes.humanErrors {
                let question = try Self.question(request, isCoordinator: caller.isCoordinator)
                return DashboardRoutes.page(BoardPacketPage.html(try await packets.live(question)))
            }
        }
        routes.post("/v1/publications", .coordinator("publish a board packet")) { request, context in
            let body = try PublicationBody.read(try request.jsonObject())
            let publication = try await packets.publish(body, keyID: context.caller.key.id)
            return .json(publication, status: .created, location: "/v1/publications/\(publication.id)")
        }
        routes.get("/v1/publications", .anyKey, query: ["agenda", "limit", "cursor"]) { request, context in
            let limit = try request.pageLimit()
            let agenda = request.query("agenda")
            let cursor = try request.query("cursor").map { text in
                guard let id = Int(text), id > 0 else {
                    throw Problem.badRequest(
                        "cursor must be a cursor this listing gave.", field: "cursor", code: "invalid-cursor")
                }
                return id
            }
            let coordinator = context.caller.isCoordinator
            let page = try await database(packets.pool, transaction: false) {
                try Publications.list(
                    $0, agenda: agenda, includingCoordinator: coordinator, cursor: cursor, limit: limit)
            }
            return .json(
                ListPage(items: page.items, nextCursor: page.nextCursor.map(String.init)))
        }
        routes.get("/v1/publications/{id}", .anyKey, offers: [.json, Self.html]) { request, context in
            let id = try context.parameters.requireID("id", of: "publication")
            let coordinator = context.caller.isCoordinator
            let representation: Publications.Representation = request.representation == Self.html ? .html : .json
            let (publication, content) = try await database(packets.pool, transaction: false) { connection in
                // A coordinator's packet is not there for other keys: the same answer as none.
                guard let publication = try Publications.find(connection, id: id),
                    publication.isReadable(byCoordinator: coordinator),
                    let content = try Publications.content(connection, id: id, as: representation)
                else { throw Problem.notFound("No publication \(id).") }
                return (publication, content)
            }
            let sha = representation == .json ? publication.jsonSHA256 : publication.htmlSHA256
            var response = HTTPResponse(
                status: .ok,
                contentType: representation == .json ? "application/json" : "text/html; charset=utf-8",
                body: content.utf8)
            response.headers.add(name: "etag", value: "\"\(sha)\"")
            response.headers.add(name: "x-content-sha256", value: sha)
            return response
        }
    }

    /// What a packet request asks: the agenda, the period, and the audience (the caller's
    /// own unless a coordinator asks for the public packet).
    static func question(_ request: HTTPRequest, isCoordinator: Bool) throws -> (
        agenda: String, period: Period, audience: BoardPacket.Audience
    ) {
        let agenda = try QueryParameters.required(request, "agenda")
        let period = try QueryParameters.period(request, "period", required: true)!
        var audience: BoardPacket.Audience = isCoordinator ? .coordinator : .public
        if let asked = request.query("audience") {
            guard let chosen = BoardPacket.Audience(rawValue: asked) else {
                throw Problem.badRequest(
                    "audience must be coordinator or public, not \(asked).", field: "audience", code: "invalid-audience"
                )
            }
            if chosen == .coordinator && !isCoordinator {
                throw Problem(
                    status: .forbidden, code: "forbidden", title: "Forbidden",
                    detail: "Only a coordinator key reads the coordinator's packet; other keys read the public one.")
            }
            audience = chosen
        }
        return (agenda, period, audience)
    }

    /// The packet computed now, compared with the latest publication of its agenda and audience.
    func live(_ question: (agenda: String, period: Period, audience: BoardPacket.Audience)) async throws
        -> BoardPacket
    {
        var packet = try await BoardPacketSource.packet(
            pool, agenda: question.agenda, period: question.period, audience: question.audience,
            parallel: Self.parallelPages)
        let previous = try await database(pool, transaction: false) {
            try Publications.latest($0, agenda: question.agenda, audience: Self.stored(question.audience))
        }
        if let previous { packet.sinceLast = try Self.comparison(of: packet, with: previous) }
        return packet
    }

    /// Computes the packet, then in one transaction compares it with the previous
    /// publication, stamps it and stores its JSON and HTML.
    func publish(_ body: PublicationBody, keyID: String) async throws -> Publication {
        // A body naming no agenda is refused as a field, not as a missing page.
        var packet = try await BoardPacketSource.packet(
            pool, agenda: body.agenda, period: body.period, audience: body.audience, parallel: Self.parallelPages,
            unknownAgenda: Publications.unknownAgenda(body.agenda))
        packet.title = body.title
        let frozen = packet
        return try await database(pool) { connection in
            try Publications.publish(
                connection, agenda: body.agenda, period: body.period, title: body.title,
                audience: Self.stored(body.audience), keyID: keyID
            ) { publishedAt, previous in
                var packet = frozen
                packet.publishedAt = DashboardSource.moment(publishedAt)
                if let previous { packet.sinceLast = try Self.comparison(of: packet, with: previous) }
                let json = String(decoding: BoardPacketJSON.json(packet).jsonBytes, as: UTF8.self)
                return (json, BoardPacketPage.html(packet))
            }
        }
    }

    static func comparison(of packet: BoardPacket, with previous: Publications.Previous) throws
        -> BoardPacket.Comparison
    {
        let document: JSONValue
        do {
            document = try JSONValue.parse(Data(previous.json.utf8))
        } catch {
            throw DomainError.storedData(
                column: "publications.packet_json", "of publication \(previous.publication.id) is not JSON")
        }
        let publication = previous.publication
        return BoardPacketJSON.comparison(
            of: packet, with: document, publication: publication.id, title: publication.title,
            publishedAt: DashboardSource.moment(publication.publishedAt), period: publication.period)
    }

    static func stored(_ audience: BoardPacket.Audience) -> Publication.Audience {
        switch audience {
        case .coordinator: .coordinator
        case .public: .public
        }
    }
}
