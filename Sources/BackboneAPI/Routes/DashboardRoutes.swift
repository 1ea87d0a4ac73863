import Aggregation
import BackboneCore
import Dashboard
import Foundation
import HTTPServer
import NIOHTTP1
import Postgres

/// `/dashboard`: the agenda at a glance for people, as HTML with inline SVG (no script),
/// each chart also at its own URL. Every number comes from the same protected reports the
/// API serves, for the caller's audience. Sign-in posts a key once through a form and
/// gets a server-side session cookie; the key is checked again on every request.
struct DashboardRoutes {
    let pool: ConnectionPool
    let authenticator: Authenticator
    let sessions: DashboardSessions

    static let html = Representation(mediaType: "text/html", format: "html")
    static let svg = Representation(mediaType: "image/svg+xml", format: "svg")
    /// How many periods the completeness grid shows, ending with the current one.
    static let completenessColumns = 8
    /// How many indicators' panels one page gathers at once (each on its own pooled connection).
    static let parallelPanels = 3
    /// The largest sign-in (or sign-out) form accepted.
    static let maxFormBytes = 4096

    func register(in table: inout RouteTable) {
        let routes = self
        let identify = identifier

        table.get("/dashboard/sign-in", identifying: identify, offers: [Self.html]) { _, context in
            if context.authenticated != nil { return Self.redirect(to: "/dashboard") }
            return Self.page(SignInPage.html())
        }

        // Anyone may post these, so a body over the form's size is refused before it is read.
        table.post("/dashboard/sign-in", .public, maxBodyBytes: Self.maxFormBytes) { request, _ in
            try await routes.signIn(request)
        }

        table.post("/dashboard/sign-out", .public, maxBodyBytes: Self.maxFormBytes) { request, _ in
            if let refusal = Self.crossSiteRefusal(request) { return refusal }
            if let id = Self.sessionID(request) { routes.sessions.end(id) }
            var response = Self.redirect(to: "/dashboard/sign-in")
            response.headers.add(name: "set-cookie", value: Self.clearedCookie(request))
            return response
        }

        table.get("/dashboard", identifying: identify, query: ["agenda"], offers: [Self.html]) { request, context in
            guard let caller = context.authenticated else { return Self.signInAgain(request) }
            return try await Self.humanErrors {
                let audience = caller.audience
                let agendaID = request.query("agenda")
                let isCoordinator = caller.isCoordinator
                let partner = caller.key.partner
                let role = caller.role
                let agendas = try await database(routes.pool, transaction: false) { try DashboardSource.agendas($0) }
                guard let chosen = agendaID ?? (agendas.count == 1 ? agendas[0].id : nil) else {
                    return Self.page(AgendaListPage.html(agendas))
                }
                guard let agenda = agendas.first(where: { $0.id == chosen }) else {
                    throw Problem.notFound("No agenda \(chosen).")
                }
                let model = try await DashboardSource.model(
                    routes.pool, agenda: agenda, agendas: agendas, role: role, partner: partner, audience: audience,
                    completenessColumns: isCoordinator ? Self.completenessColumns : nil,
                    parallel: Self.parallelPanels)
                return Self.page(DashboardPage.html(model))
            }
        }

        // One flag: its value, the value's history and the flag's trail (a partner its own).
        table.get("/dashboard/flags/{id}", identifying: identify, offers: [Self.html]) { _, context in
            try await routes.flagPage(caller: context.authenticated, parameters: context.parameters)
        }

        for chart in ["trend", "neighborhoods"] {
            table.get("/dashboard/charts/{code}/\(chart).svg", identifying: identify, offers: [Self.svg]) {
                _, context in
                guard let caller = context.authenticated else {
                    throw Authenticator.unauthorized(
                        "Sign in at /dashboard/sign-in, or send Authorization: Bearer <secret>.")
                }
                let audience = caller.audience
                let code = context.parameters.require("code")
                let svg = try await database(routes.pool, transaction: false) { connection -> String in
                    let panel = try DashboardSource.panel(connection, code: code, audience: audience)
                    return chart == "trend" ? TrendChart.svg(panel) : NeighborhoodChart.svg(panel)
                }
                var response = HTTPResponse(status: .ok, contentType: "image/svg+xml; charset=utf-8", body: svg.utf8)
                Self.addPrivacyHeaders(&response)
                return response
            }
        }
    }

    /// `GET /dashboard/flags/{id}`: one data-quality flag's page, for the coordinator or its partner.
    func flagPage(caller: Caller?, parameters: PathParameters) async throws -> HTTPResponse {
        guard let caller else { return Self.redirect(to: "/dashboard/sign-in") }
        return try await Self.humanErrors {
            let id = try parameters.requireID("id", of: "flag")
            guard caller.role != .viewer else {
                throw Problem(
                    status: .forbidden, code: "forbidden", title: "Forbidden",
                    detail: "A viewer key sees no data-quality flags: a flag names one partner's value.")
            }
            let partner = caller.key.partner
            guard
                let detail = try await database(
                    pool, transaction: false, { try DashboardSource.flagDetail($0, id: id, partner: partner) })
            else { throw Problem.notFound("No flag \(id).") }
            return Self.page(FlagPage.html(detail))
        }
    }

    /// `POST /dashboard/sign-in`: a key posted once through the form becomes a session cookie.
    func signIn(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let refusal = Self.crossSiteRefusal(request) { return refusal }
        guard request.contentType == "application/x-www-form-urlencoded" else {
            return Self.page(
                SignInPage.html(
                    message: "The sign-in form must be sent as application/x-www-form-urlencoded.", isError: true),
                status: .unsupportedMediaType)
        }
        let form = Self.formFields(String(decoding: request.body.readableBytesView, as: UTF8.self))
        guard let secret = form["key"]?.trimmingCharacters(in: .whitespaces), !secret.isEmpty else {
            return Self.page(SignInPage.html(message: "Enter an API key.", isError: true), status: .badRequest)
        }
        guard try await authenticator.caller(secret: secret) != nil else {
            return Self.page(
                SignInPage.html(message: "That key is unknown or revoked.", isError: true), status: .unauthorized)
        }
        let id = sessions.create(secret: secret)
        var response = Self.redirect(to: "/dashboard")
        response.headers.add(name: "set-cookie", value: Self.sessionCookie(id, request: request))
        return response
    }

    /// `identify` as the route table takes it, to find a page's caller on its head.
    var identifier: @Sendable (HTTPRequest) async throws -> Caller? {
        let routes = self
        return { try await routes.identify($0) }
    }

    /// The caller behind the session cookie (or a bearer key, for scripts fetching charts);
    /// `nil` without one, or once the key is revoked (which also ends the session). An
    /// unreachable database is thrown (a 503), not taken for a missing key.
    func identify(_ request: HTTPRequest) async throws -> Caller? {
        if request.headers.first(name: "authorization") != nil {
            do {
                return try await authenticator.caller(of: request)
            } catch let problem as Problem where problem.status == .unauthorized {
                return nil
            }
        }
        guard let id = Self.sessionID(request), let secret = sessions.secret(for: id) else { return nil }
        guard let caller = try await authenticator.caller(secret: secret) else {
            sessions.end(id)
            return nil
        }
        return caller
    }

    /// The answer to a page request without a live session: on to the sign-in form, or,
    /// for a session whose key was revoked or that expired, a 401 page that says it is over.
    static func signInAgain(_ request: HTTPRequest) -> HTTPResponse {
        guard sessionID(request) != nil else { return redirect(to: "/dashboard/sign-in") }
        var response = page(
            SignInPage.html(message: "Your session has ended. Sign in again.", isError: true), status: .unauthorized)
        response.headers.add(name: "set-cookie", value: clearedCookie(request))
        return response
    }

    // MARK: - Cookies and cross-site checks

    static func sessionID(_ request: HTTPRequest) -> String? {
        for header in request.headers["cookie"] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == DashboardSessions.cookieName {
                    let value = parts[1].trimmingCharacters(in: .whitespaces)
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    /// Whether the request reached us over TLS (directly or through a proxy that says so).
    static func isSecure(_ request: HTTPRequest) -> Bool {
        if request.headers.first(name: "x-forwarded-proto")?.lowercased() == "https" { return true }
        return request.headers["forwarded"].contains { $0.lowercased().contains("proto=https") }
    }

    static func sessionCookie(_ id: String, request: HTTPRequest) -> String {
        "\(DashboardSessions.cookieName)=\(id); Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=28800"
            + (isSecure(request) ? "; Secure" : "")
    }

    static func clearedCookie(_ request: HTTPRequest) -> String {
        "\(DashboardSessions.cookieName)=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0"
            + (isSecure(request) ? "; Secure" : "")
    }

    /// Refuses a form post another site's page made: a browser says so in `Sec-Fetch-Site`,
    /// and its `Origin` must name this host. (Clients that send neither are not browsers,
    /// and a cross-site request cannot be made to send a cookie with SameSite=Strict.)
    static func crossSiteRefusal(_ request: HTTPRequest) -> HTTPResponse? {
        let refusal = page(
            SignInPage.html(message: "This form can only be sent from the dashboard's own page.", isError: true),
            status: .forbidden)
        if let site = request.headers.first(name: "sec-fetch-site")?.lowercased(), site != "same-origin", site != "none"
        {
            return refusal
        }
        if let origin = request.headers.first(name: "origin") {
            guard let host = request.headers.first(name: "host")?.lowercased(),
                let components = URLComponents(string: origin), let originHost = components.host?.lowercased()
            else { return refusal }
            let authority = components.port.map { "\(originHost):\($0)" } ?? originHost
            let defaultPort = components.scheme == "https" ? ":443" : ":80"
            guard authority == host || authority + defaultPort == host || authority == host + defaultPort else {
                return refusal
            }
        }
        return nil
    }

    /// `application/x-www-form-urlencoded` fields (the first value of each name).
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decoded(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decoded(parts[1]) : "" }
        }
        return fields
    }

    // MARK: - Responses

    static func page(_ html: String, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        var response = HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: html.utf8)
        addPrivacyHeaders(&response)
        return response
    }

    static func redirect(to location: String) -> HTTPResponse {
        var response = HTTPResponse(status: .seeOther, headers: ["location": location])
        addPrivacyHeaders(&response)
        return response
    }

    /// No caching of what a key may see, no script at all, no framing, no referrer to other sites.
    static func addPrivacyHeaders(_ response: inout HTTPResponse) {
        response.headers.replaceOrAdd(name: "cache-control", value: "no-store")
        response.headers.replaceOrAdd(
            name: "content-security-policy",
            value:
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers.replaceOrAdd(name: "x-content-type-options", value: "nosniff")
        // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the form post.
        response.headers.replaceOrAdd(name: "referrer-policy", value: "same-origin")
    }

    /// A page's problems (an unknown agenda) as a page a person can read, with the same status.
    static func humanErrors(_ body: () async throws -> HTTPResponse) async throws -> HTTPResponse {
        do {
            return try await body()
        } catch let problem as Problem where problem.status.code < 500 {
            return page(
                MessagePage.html(title: problem.title, message: problem.detail ?? problem.title), status: problem.status
            )
        }
    }
}
