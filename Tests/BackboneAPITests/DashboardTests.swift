import Foundation
import TestSupport
import Testing

@testable import BackboneAPI

/// The dashboard as a browser uses it: sign in through the form, get a session cookie,
/// read pages and charts with it, sign out; a revoked key ends its sessions at once.
@Suite("Dashboard", .serialized)
struct DashboardTests {
    /// Two partners report `esl_learners` for two neighborhoods over three months.
    static func seeded() async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        var rows: [String] = []
        for (partner, base) in [("central-library", 10), ("literacy-now", 20)] {
            for neighborhood in ["northside", "southside"] {
                for month in ["2026-01", "2026-02", "2026-04"] {
                    rows.append(
                        #"{"partner": "\#(partner)", "indicator": "esl_learners", "neighborhood": "\#(neighborhood)", "period": "\#(month)", "value": \#(base + month.count), "dimensions": {"age_group": "25-44"}}"#
                    )
                }
            }
        }
        let response = try await app.coordinator("POST", "/v1/measurements", json: batch(rows))
        #expect(response.status == 200 || response.status == 201, "\(response.text)")
        return app
    }

    /// Posts the sign-in form as a browser on the same origin would; returns the cookie pair.
    static func signIn(_ app: TestApp, key: String, headers: [String: String] = [:]) async throws -> (
        response: RawHTTPClient.Response, cookie: String?
    ) {
        // RawHTTPClient sends `Host: localhost`; a browser on that page sends this Origin.
        var all = ["Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"]
        for (name, value) in headers { all[name] = value }
        let body = "key=" + (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key)
        let response = try await app.request(
            "POST", "/dashboard/sign-in", body: Data(body.utf8), contentType: "application/x-www-form-urlencoded",
            headers: all)
        let cookie = response.header("set-cookie")?.split(separator: ";").first.map(String.init)
        return (response, cookie)
    }

    static func get(_ app: TestApp, _ path: String, cookie: String?) async throws -> RawHTTPClient.Response {
        try await app.request("GET", path, headers: cookie.map { ["Cookie": $0] } ?? [:])
    }

    @Test func signingInSetsAStrictHttpOnlySessionCookieAndTheKeyNeverAppearsInAURL() async throws {
        let app = try await Self.seeded()
        let (response, cookie) = try await Self.signIn(app, key: app.coordinator)
        #expect(response.status == 303)
        #expect(response.header("location") == "/dashboard")
        let setCookie = try #require(response.header("set-cookie"))
        #expect(setCookie.contains("HttpOnly"))
        #expect(setCookie.contains("SameSite=Strict"))
        #expect(!setCookie.contains("Secure"))  // plain HTTP here
        #expect(!setCookie.contains(app.coordinator))
        let page = try await Self.get(app, "/dashboard", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.header("content-type") == "text/html; charset=utf-8")
        #expect(page.header("cache-control") == "no-store")
        #expect(page.header("content-security-policy")?.contains("default-src 'none'") == true)
        #expect(page.text.contains("<h1>Every adult reads</h1>"))
        #expect(page.text.contains("id=\"completeness\""))
        #expect(page.text.contains("class=\"target-line\"") || page.text.contains("class=\"series\""))
        #expect(!page.text.contains(app.coordinator))
        #expect(!page.text.contains("<script"))
        // Behind a TLS proxy the cookie is Secure.
        let (secure, _) = try await Self.signIn(app, key: app.coordinator, headers: ["X-Forwarded-Proto": "https"])
        #expect(secure.header("set-cookie")?.contains("; Secure") == true)
        try await app.stop()
    }

    @Test func withoutASessionThePageSendsYouToSignIn() async throws {
        let app = try await Self.seeded()
        let page = try await Self.get(app, "/dashboard", cookie: nil)
        #expect(page.status == 303)
        #expect(page.header("location") == "/dashboard/sign-in")
        let form = try await Self.get(app, "/dashboard/sign-in", cookie: nil)
        #expect(form.status == 200)
        #expect(form.text.contains("<form method=\"post\" action=\"/dashboard/sign-in\">"))
        #expect(form.text.contains("type=\"password\""))
        let forged = try await Self.get(app, "/dashboard", cookie: "backbone_session=not-a-session")
        #expect(forged.status == 401)
        let chart = try await Self.get(app, "/dashboard/charts/esl_learners/trend.svg", cookie: nil)
        #expect(chart.status == 401)
        try await app.stop()
    }

    @Test func aWrongKeyIsRefusedOnTheForm() async throws {
        let app = try await Self.seeded()
        let (response, cookie) = try await Self.signIn(app, key: "bbk_not-a-key")
        #expect(response.status == 401)
        #expect(cookie == nil)
        #expect(response.text.contains("unknown or revoked"))
        let empty = try await app.request(
            "POST", "/dashboard/sign-in", body: Data("key=".utf8), contentType: "application/x-www-form-urlencoded")
        #expect(empty.status == 400)
        let json = try await app.request("POST", "/dashboard/sign-in", json: #"{"key": "\#(app.coordinator)"}"#)
        #expect(json.status == 415)
        try await app.stop()
    }

    @Test func aFormPostedFromAnotherSiteIsRefused() async throws {
        let app = try await Self.seeded()
        let (crossSite, cookie) = try await Self.signIn(
            app, key: app.coordinator, headers: ["Sec-Fetch-Site": "cross-site"])
        #expect(crossSite.status == 403)
        #expect(cookie == nil)
        let (otherOrigin, _) = try await Self.signIn(
            app, key: app.coordinator, headers: ["Sec-Fetch-Site": "same-site", "Origin": "http://evil.example"])
        #expect(otherOrigin.status == 403)
        let (nullOrigin, _) = try await Self.signIn(app, key: app.coordinator, headers: ["Origin": "null"])
        #expect(nullOrigin.status == 403)
        try await app.stop()
    }

    @Test func revokingTheKeyEndsItsSessionAtOnce() async throws {
        let app = try await Self.seeded()
        let created = try await app.coordinator("POST", "/v1/keys", json: #"{"role": "viewer", "name": "funder"}"#)
        let secret = try #require(created.json["secret"] as? String)
        let id = try #require(created.json["id"] as? String)
        let (_, cookie) = try await Self.signIn(app, key: secret)
        #expect(try await Self.get(app, "/dashboard", cookie: cookie).status == 200)
        #expect(try await app.coordinator("DELETE", "/v1/keys/\(id)").status < 300)
        let after = try await Self.get(app, "/dashboard", cookie: cookie)
        #expect(after.status == 401)
        #expect(after.text.contains("Your session has ended"))
        #expect(after.header("set-cookie")?.contains("Max-Age=0") == true)
        #expect(try await Self.get(app, "/dashboard/charts/esl_learners/trend.svg", cookie: cookie).status == 401)
        try await app.stop()
    }

    @Test func signingOutEndsTheSession() async throws {
        let app = try await Self.seeded()
        let (_, cookie) = try await Self.signIn(app, key: app.coordinator)
        let out = try await app.request(
            "POST", "/dashboard/sign-out", headers: ["Cookie": cookie ?? "", "Origin": "http://localhost"])
        #expect(out.status == 303)
        #expect(out.header("set-cookie")?.contains("Max-Age=0") == true)
        #expect(try await Self.get(app, "/dashboard", cookie: cookie).status == 401)
        try await app.stop()
    }

    @Test func aViewerSeesSuppressedCellsAndNoCompletenessGrid() async throws {
        let app = try await Self.seeded()
        try await app.release("literacy", "2026")
        let viewer = try await app.key(role: "viewer")
        let (_, cookie) = try await Self.signIn(app, key: viewer)
        let page = try await Self.get(app, "/dashboard", cookie: cookie)
        #expect(page.status == 200)
        #expect(!page.text.contains("id=\"completeness\""))
        #expect(!page.text.contains("Completeness</a>"))
        // Two partners stand behind every cell: every neighborhood would be hatched, so the chart
        // rolls up to the city, says so, and shows it withheld too, never a zero.
        #expect(page.text.contains("Shown at level 0 of the neighborhood tree"))
        #expect(page.text.contains("class=\"bar suppressed\" data-neighborhood=\"city\""))
        #expect(!page.text.contains("data-neighborhood=\"northside\""))
        #expect(page.text.contains("Viewer view"))
        let coordinatorPage = try await Self.get(
            app, "/dashboard", cookie: try await Self.signIn(app, key: app.coordinator).cookie)
        #expect(coordinatorPage.text.contains("class=\"bar\" data-neighborhood=\"northside\""))
        #expect(!coordinatorPage.text.contains("class=\"bar suppressed\""))
        // The API's own completeness report stays closed to the viewer too.
        #expect(
            try await app.request("GET", "/v1/reports/completeness?agenda=literacy&period=2026-Q1", key: viewer).status
                == 403)
        try await app.stop()
    }

    @Test func aPartnerGetsTheProtectedPageNamingItsPartner() async throws {
        let app = try await Self.seeded()
        try await app.release("literacy", "2026")
        let partner = try await app.key(role: "partner", partner: "central-library")
        let (_, cookie) = try await Self.signIn(app, key: partner)
        let page = try await Self.get(app, "/dashboard", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.text.contains("Partner view (Central Library)"))
        #expect(!page.text.contains("id=\"completeness\""))
        #expect(page.text.contains("class=\"bar suppressed\" data-neighborhood=\"city\""))
        try await app.stop()
    }

    @Test func aSessionEndsWhenIdleOrTooOldAndTheStoreStaysBounded() async throws {
        let idle = DashboardSessions(lifetime: .seconds(3600), idle: .milliseconds(150))
        let id = idle.create(secret: "bbk_x")
        #expect(idle.secret(for: id) == "bbk_x")
        try await Task.sleep(for: .milliseconds(300))
        #expect(idle.secret(for: id) == nil)
        let old = DashboardSessions(lifetime: .milliseconds(150), idle: .seconds(3600))
        let other = old.create(secret: "bbk_y")
        try await Task.sleep(for: .milliseconds(300))
        #expect(old.secret(for: other) == nil)
        let small = DashboardSessions(capacity: 3)
        let ids = (0..<5).map { small.create(secret: "bbk_\($0)") }
        #expect(small.count == 3)
        #expect(small.secret(for: ids[4]) == "bbk_4")
        #expect(Set(ids).count == 5 && ids.allSatisfy { $0.count >= 43 })
    }

    @Test func eachChartIsItsOwnSVG() async throws {
        let app = try await Self.seeded()
        let (_, cookie) = try await Self.signIn(app, key: app.coordinator)
        for chart in ["trend", "neighborhoods"] {
            let response = try await Self.get(app, "/dashboard/charts/esl_learners/\(chart).svg", cookie: cookie)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "image/svg+xml; charset=utf-8")
            #expect(response.text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        }
        // A bearer key works too, for scripts that put charts on slides.
        let bearer = try await app.request("GET", "/dashboard/charts/esl_learners/trend.svg", key: app.coordinator)
        #expect(bearer.status == 200)
        #expect(try await Self.get(app, "/dashboard/charts/no_such/trend.svg", cookie: cookie).status == 404)
        let unknownAgenda = try await Self.get(app, "/dashboard?agenda=nope", cookie: cookie)
        #expect(unknownAgenda.status == 404)
        #expect(unknownAgenda.header("content-type") == "text/html; charset=utf-8")
        try await app.stop()
    }
}
