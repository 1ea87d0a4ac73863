import Foundation
import TestSupport
import Testing

@testable import BackboneAPI

/// The partners' upload page over a real socket: template, dry run as a table, one idempotent
/// store, and every refusal as a page a person can read.
@Suite("Dashboard upload", .serialized)
struct DashboardUploadTests {
    static let boundary = "----BackboneTestBoundary1234"
    static let sameSite = ["Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"]

    static let faulty = """
        indicator,neighborhood,period,value,dim.age_group
        esl_learners,northside,2026-03,abc,25-44
        esl_learners,southside,2026-03,14,25-44

        """
    static let fixed = faulty.replacingOccurrences(of: "abc", with: "12")

    /// A multipart body with text fields and, optionally, a file part named `file`.
    static func multipart(_ fields: [(String, String)], file: (name: String, content: String)? = nil) -> Data {
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        if let file {
            body +=
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\nContent-Type: text/csv\r\n\r\n\(file.content)\r\n"
        }
        return Data((body + "--\(boundary)--\r\n").utf8)
    }

    static func post(
        _ app: TestApp, _ path: String, cookie: String?, body: Data, headers: [String: String] = sameSite
    ) async throws -> RawHTTPClient.Response {
        var all = headers
        if let cookie { all["Cookie"] = cookie }
        return try await app.request(
            "POST", path, body: body, contentType: "multipart/form-data; boundary=\(boundary)", headers: all)
    }

    /// A registry, and a partner signed in to the dashboard.
    static func partnerSession() async throws -> (TestApp, cookie: String) {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let partner = try await app.key(role: "partner", partner: "central-library")
        let cookie = try #require(try await DashboardTests.signIn(app, key: partner).cookie)
        return (app, cookie)
    }

    /// The value of the hidden field `name` on a page (unescaped).
    static func hidden(_ page: String, _ name: String) -> String? {
        guard let start = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = page[start.upperBound...]
        return String(rest[..<rest.firstIndex(of: "\"")!]).replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func aPartnerDownloadsTheTemplateChecksAFileFixesItAndStoresItOnce() async throws {
        let (app, cookie) = try await Self.partnerSession()
        let dashboard = try await DashboardTests.get(app, "/dashboard", cookie: cookie)
        #expect(dashboard.text.contains("<a class=\"upload\" href=\"/dashboard/upload\">Upload measurements</a>"))
        let page = try await DashboardTests.get(app, "/dashboard/upload", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.text.contains("Uploading as Central Library."))
        #expect(page.text.contains("href=\"/dashboard/upload/template.csv?agenda=literacy\""))
        #expect(!page.text.contains("<script"))

        let template = try await DashboardTests.get(
            app, "/dashboard/upload/template.csv?agenda=literacy", cookie: cookie)
        #expect(template.status == 200)
        #expect(template.header("content-type")?.hasPrefix("text/csv") == true)
        #expect(template.header("content-disposition") == "attachment; filename=\"literacy-template.csv\"")
        // The same template the API gives the same key.
        let api = try await app.request(
            "GET", "/v1/agendas/literacy/template.csv", key: nil, headers: ["Cookie": cookie])
        #expect(api.status == 401)
        #expect(template.text.hasPrefix("partner,indicator,neighborhood,period,value"))

        // The dry run: the error on its row and cell; in mode all nothing can be stored yet.
        let dryRun = try await Self.post(
            app, "/dashboard/upload", cookie: cookie,
            body: Self.multipart([("mode", "all")], file: ("march.csv", Self.faulty)))
        #expect(dryRun.status == 200, "\(dryRun.text)")
        let cell = try #require(UploadTable.cell(dryRun.text, row: 1, field: "value"))
        #expect(
            cell.contains("class=\"cell-error\"") && cell.contains("abc") && cell.contains("data-code=\"not-numeric\""))
        #expect(UploadTable.cell(dryRun.text, row: 2, field: "value")?.contains("issue") == false)
        #expect(dryRun.text.contains("data-count=\"received\">2<"))
        #expect(dryRun.text.contains("data-count=\"created\">1<"))
        #expect(!dryRun.text.contains("/dashboard/upload/store"))
        #expect(try app.count("measurements") == 0)

        // Fixed: the store form carries the file and a key; two clicks store once.
        let checked = try await Self.post(
            app, "/dashboard/upload", cookie: cookie, body: Self.multipart([], file: ("march.csv", Self.fixed)))
        #expect(checked.text.contains("data-count=\"created\">2<"))
        let key = try #require(Self.hidden(checked.text, "idempotency_key"))
        let content = try #require(Self.hidden(checked.text, "content"))
        #expect(content == Self.fixed)
        #expect(try app.count("measurements") == 0)
        let storeForm = Self.multipart([
            ("idempotency_key", key), ("mode", "all"), ("file_name", "march.csv"), ("content", content),
        ])
        let first = try await Self.post(app, "/dashboard/upload/store", cookie: cookie, body: storeForm)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.text.contains("Stored: march.csv"))
        #expect(first.text.contains("data-count=\"created\">2<"))
        #expect(first.header("idempotent-replayed") == nil)
        let second = try await Self.post(app, "/dashboard/upload/store", cookie: cookie, body: storeForm)
        #expect(second.status == 200)
        #expect(second.header("idempotent-replayed") == "true")
        #expect(second.text == first.text)
        #expect(try app.count("measurements") == 2)
        #expect(try app.count("measurements", where: "partner_id = 'central-library'") == 2)
        let batches = try await app.coordinator("GET", "/v1/measurements?limit=100").json["items"] as? [[String: Any]]
        #expect(Set((batches ?? []).compactMap { $0["batch_id"] as? String }).count == 1)
        // The same key with other content is refused, as in the API.
        let changed = Self.multipart([
            ("idempotency_key", key), ("mode", "all"), ("file_name", "march.csv"),
            ("content", content.replacingOccurrences(of: "14", with: "15")),
        ])
        let reused = try await Self.post(app, "/dashboard/upload/store", cookie: cookie, body: changed)
        #expect(reused.status == 409)
        #expect(reused.header("content-type") == "text/html; charset=utf-8")
        #expect(reused.text.contains("already used for a different request"))
        try await app.stop()
    }

    @Test func anOutlierShowsItsExpectedRangeAndItsSeriesHistory() async throws {
        let (app, cookie) = try await Self.partnerSession()
        let months = (1...12).map { "2025-\($0 < 10 ? "0" : "")\($0)" }
        let values = [98, 101, 100, 103, 99, 102, 97, 100, 101, 99, 102, 100]
        let history = try await app.coordinator(
            "POST", "/v1/measurements",
            json: batch(zip(months, values).map { row(neighborhood: "southside", period: $0, value: "\($1)") }))
        #expect(history.status == 200, "\(history.text)")
        let file = "indicator,neighborhood,period,value,dim.age_group\nesl_learners,southside,2026-01,1000,25-44\n"
        let dryRun = try await Self.post(
            app, "/dashboard/upload", cookie: cookie, body: Self.multipart([], file: ("january.csv", file)))
        let cell = try #require(UploadTable.cell(dryRun.text, row: 1, field: "value"))
        #expect(cell.contains("class=\"cell-warning\""), "\(cell)")
        #expect(cell.contains("data-code=\"outlier\""))
        #expect(cell.contains("<span data-bound=\"low\">"))
        for (month, value) in zip(months, values).suffix(6) {
            #expect(cell.contains("<th scope=\"row\">\(month)</th><td class=\"num\">\(value)</td>"))
        }
        #expect(!cell.contains(">\(months[5])</th>"))
        #expect(dryRun.text.contains("data-count=\"warnings\">1<"))
        #expect(dryRun.text.contains("id=\"store\""))
        try await app.stop()
    }

    @Test func inModePartialTheValidRowsCanBeStored() async throws {
        let (app, cookie) = try await Self.partnerSession()
        let dryRun = try await Self.post(
            app, "/dashboard/upload", cookie: cookie,
            body: Self.multipart([("mode", "partial")], file: ("march.csv", Self.faulty)))
        #expect(dryRun.text.contains("<button type=\"submit\" id=\"store\">Store 1 row</button>"))
        let key = try #require(Self.hidden(dryRun.text, "idempotency_key"))
        let stored = try await Self.post(
            app, "/dashboard/upload/store", cookie: cookie,
            body: Self.multipart([
                ("idempotency_key", key), ("mode", "partial"), ("file_name", "march.csv"),
                ("content", try #require(Self.hidden(dryRun.text, "content"))),
            ]))
        #expect(stored.status == 200)
        #expect(stored.text.contains("data-count=\"created\">1<"))
        #expect(stored.text.contains("data-count=\"rejected\">1<"))
        #expect(stored.text.contains("Rows not stored"))
        #expect(try app.count("measurements") == 1)
        try await app.stop()
    }

    @Test func theCoordinatorsFileNamesItsPartnerOnEveryRow() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let cookie = try #require(try await DashboardTests.signIn(app, key: app.coordinator).cookie)
        let page = try await DashboardTests.get(app, "/dashboard/upload", cookie: cookie)
        #expect(page.text.contains("Uploading as the coordinator"))
        let dryRun = try await Self.post(
            app, "/dashboard/upload", cookie: cookie, body: Self.multipart([], file: ("march.csv", Self.fixed)))
        // No partner column: the problem sits in the row's own cell.
        let rowCell = try #require(UploadTable.cell(dryRun.text, row: 1, field: "row"))
        #expect(rowCell.contains("cell-error"), "\(dryRun.text)")
        #expect(rowCell.contains("partner"))
        let named = "partner," + Self.fixed.replacingOccurrences(of: "\nesl", with: "\ncentral-library,esl")
        let good = try await Self.post(
            app, "/dashboard/upload", cookie: cookie, body: Self.multipart([], file: ("march.csv", named)))
        #expect(good.text.contains("id=\"store\""), "\(good.text)")
        try await app.stop()
    }

    @Test func viewersSignedOutCallersAndOtherSitesAreRefusedWithPages() async throws {
        let (app, cookie) = try await Self.partnerSession()
        let viewer = try await app.key(role: "viewer")
        let viewerCookie = try await DashboardTests.signIn(app, key: viewer).cookie
        let refused = try await DashboardTests.get(app, "/dashboard/upload", cookie: viewerCookie)
        #expect(refused.status == 403)
        #expect(refused.header("content-type") == "text/html; charset=utf-8")
        #expect(refused.text.contains("Viewers cannot upload"))
        let viewerPage = try await DashboardTests.get(app, "/dashboard", cookie: viewerCookie)
        #expect(!viewerPage.text.contains("/dashboard/upload"))
        let viewerPost = try await Self.post(
            app, "/dashboard/upload", cookie: viewerCookie, body: Self.multipart([], file: ("a.csv", Self.fixed)))
        #expect(viewerPost.status == 403)

        let signedOut = try await DashboardTests.get(app, "/dashboard/upload", cookie: nil)
        #expect(signedOut.status == 303)
        #expect(signedOut.header("location") == "/dashboard/sign-in")
        let anonymous = try await Self.post(
            app, "/dashboard/upload", cookie: nil, body: Self.multipart([], file: ("a.csv", Self.fixed)))
        #expect(anonymous.status == 303)

        let crossSite = try await Self.post(
            app, "/dashboard/upload", cookie: cookie, body: Self.multipart([], file: ("a.csv", Self.fixed)),
            headers: ["Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"])
        #expect(crossSite.status == 403)
        let crossStore = try await Self.post(
            app, "/dashboard/upload/store", cookie: cookie, body: Self.multipart([("content", Self.fixed)]),
            headers: ["Origin": "http://evil.example"])
        #expect(crossStore.status == 403)
        #expect(try app.count("measurements") == 0)
        try await app.stop()
    }

    @Test func malformedFormsAndUnreadableFilesAreExplainedOnThePage() async throws {
        let (app, cookie) = try await Self.partnerSession()
        func expectRefused(
            _ response: RawHTTPClient.Response, _ status: Int, _ says: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
            #expect(response.header("content-type") == "text/html; charset=utf-8", sourceLocation: sourceLocation)
            #expect(response.text.contains("role=\"alert\""), sourceLocation: sourceLocation)
            #expect(response.text.contains(says), "\(response.text)", sourceLocation: sourceLocation)
            #expect(response.text.contains("enctype=\"multipart/form-data\""), sourceLocation: sourceLocation)
        }
        let truncated = Data("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc".utf8)
        expectRefused(
            try await Self.post(app, "/dashboard/upload", cookie: cookie, body: truncated), 400,
            "the closing boundary is missing")
        expectRefused(
            try await Self.post(
                app, "/dashboard/upload", cookie: cookie, body: Self.multipart([("mode", "all")])), 400,
            "Choose the CSV file")
        expectRefused(
            try await Self.post(
                app, "/dashboard/upload", cookie: cookie,
                body: Self.multipart([("mode", "sometimes")], file: ("a.csv", Self.fixed))), 400,
            "mode must be all or partial")
        expectRefused(
            try await Self.post(
                app, "/dashboard/upload", cookie: cookie,
                body: Self.multipart([("dry_run", "false")], file: ("a.csv", Self.fixed))), 400,
            "The form has a field dry_run")
        expectRefused(
            try await Self.post(
                app, "/dashboard/upload", cookie: cookie,
                body: Self.multipart([], file: ("a.csv", "indicator,colour\nesl_learners,red\n"))), 422,
            "<strong>colour</strong>")
        expectRefused(
            try await Self.post(
                app, "/dashboard/upload", cookie: cookie, body: Self.multipart([], file: ("a.csv", ""))),
            400, "The file is empty")
        expectRefused(
            try await Self.post(
                app, "/dashboard/upload/store", cookie: cookie, body: Self.multipart([("content", Self.fixed)])), 400,
            "no idempotency_key")
        var headers = Self.sameSite
        headers["Cookie"] = cookie
        expectRefused(
            try await app.request(
                "POST", "/dashboard/upload", body: Data(Self.fixed.utf8), contentType: "text/csv", headers: headers),
            415, "multipart/form-data")
        #expect(try app.count("measurements") == 0)
        try await app.stop()
    }
}
