import Foundation
import TestSupport
import Testing

@testable import BackboneAPI

/// The board packet (docs/packets.md): computed on request for the caller's audience, and
/// frozen as publications whose bytes never change.
@Suite("Board packets and publications")
struct BoardPacketTests {
    typealias R = ReportTests

    static func packet(_ app: TestApp, _ query: String, key: String? = nil) async throws -> [String: Any] {
        let response = try await app.request("GET", "/v1/reports/board-packet?\(query)", key: key ?? app.coordinator)
        #expect(response.status == 200, "\(response.text)")
        return response.json
    }

    static func indicators(_ packet: [String: Any]) -> [String: [String: Any]] {
        let list = packet["indicators"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["indicator"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func series(_ indicator: [String: Any]?) -> [String: Double?] {
        let points = indicator?["series"] as? [[String: Any]] ?? []
        return Dictionary(
            points.map { ($0["period"] as? String ?? "", R.number($0["value"])) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The SHA-256 of `data` as `sha256sum` (coreutils, not the server's PostgreSQL) computes it.
    static func sha256(_ data: Data) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let digest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: digest, as: UTF8.self).prefix(64))
    }

    @Test func aPacketShowsEveryActiveIndicatorUpToItsPeriodAndCountsWhatIsOnTrack() async throws {
        let app = try await R.start()
        let january = try await Self.packet(app, "agenda=literacy&period=2026-01")
        let pages = Self.indicators(january)
        #expect(Set(pages.keys) == ["esl_learners", "pass_rate", "volunteers"], "the inactive indicator has no page")
        #expect(january["audience"] as? String == "coordinator" && january["since_last"] is NSNull)
        // January: February's numbers and the quarter still running are not in it.
        #expect(Self.series(pages["esl_learners"]) == ["2026-01": 107])
        #expect(pages["esl_learners"]?["period"] as? String == "2026-01")
        #expect(Self.series(pages["pass_rate"]).isEmpty && pages["pass_rate"]?["period"] is NSNull)

        let quarter = try await Self.packet(app, "agenda=literacy&period=2026-Q1")
        let esl = Self.indicators(quarter)["esl_learners"]
        #expect(Self.series(esl) == ["2026-01": 107, "2026-02": 84])
        #expect(esl?["period"] as? String == "2026-02" && esl?["trend"] as? String == "down")
        #expect(esl?["open_flags"] as? Int == 0 && (esl?["oldest_open_flags"] as? [Any])?.isEmpty == true)
        let passRate = Self.indicators(quarter)["pass_rate"]
        #expect(abs((R.number(passRate?["value"]) ?? 0) - 100.0 * 100 / 102) < 1e-9)
        let lines = Array(Self.indicators(quarter).values)
        let summary = quarter["summary"] as? [String: Any]
        #expect(summary?["indicators"] as? Int == 3)
        #expect(summary?["on_track"] as? Int == lines.filter { $0["on_track"] as? Bool == true }.count)
        #expect(summary?["improving"] as? Int == lines.filter { $0["improving"] as? Bool == true }.count)
        #expect(esl?["improving"] as? Bool == false, "esl_learners fell from 107 to 84")
        let northside = (esl?["neighborhoods"] as? [[String: Any]])?.first {
            $0["neighborhood"] as? String == "northside"
        }
        #expect(R.number(northside?["value"]) == 84)

        // The equity rows and the page come from the same reports a viewer reads: nothing before a release.
        let viewer = try await app.key(role: "viewer")
        let unreleased = try await Self.packet(app, "agenda=literacy&period=2026-Q1", key: viewer)
        #expect(unreleased["audience"] as? String == "public")
        #expect(Self.series(Self.indicators(unreleased)["esl_learners"]).isEmpty)
        _ = try await app.release("literacy", "2026-01")
        let released = Self.indicators(try await Self.packet(app, "agenda=literacy&period=2026-Q1", key: viewer))
        #expect(Array(Self.series(released["esl_learners"]).keys) == ["2026-01"], "February is not released")
        // Southside has one partner: no row of the public packet shows its number.
        let rows = released["esl_learners"]?["neighborhoods"] as? [[String: Any]] ?? []
        #expect(!rows.isEmpty)
        #expect(!rows.contains { $0["neighborhood"] as? String == "southside" && $0["suppressed"] as? Bool == false })
        #expect(released["esl_learners"]?["open_flags"] == nil, "no flags in the public packet")
        #expect((released["esl_learners"]?["completeness"] as? [String: Any])?["missing"] == nil)

        let partner = try await app.key(role: "partner", partner: "p3")
        let refused = try await app.request(
            "GET", "/v1/reports/board-packet?agenda=literacy&period=2026-Q1&audience=coordinator", key: partner)
        #expect(refused.status == 403 && refused.isProblem)
        for (query, status, field) in [
            ("agenda=nowhere&period=2026-Q1", 404, nil), ("agenda=literacy", 400, "period"),
            ("agenda=literacy&period=2026-13", 400, "period"),
            ("agenda=literacy&period=2026-Q1&audience=board", 400, "audience"),
        ] {
            let response = try await app.coordinator("GET", "/v1/reports/board-packet?\(query)")
            #expect(response.status == status && response.isProblem, "\(query): \(response.status)")
            if let field { #expect(response.fieldErrors.map(\.field) == [field], "\(query)") }
        }
    }

    @Test func thePrintablePacketHasACoverAndAPagePerIndicator() async throws {
        let app = try await R.start()
        let page = try await app.coordinator("GET", "/dashboard/board-packet?agenda=literacy&period=2026-Q1")
        #expect(page.status == 200 && page.header("content-type")?.hasPrefix("text/html") == true)
        let html = page.text
        #expect(html.components(separatedBy: "<section class=\"cover\">").count == 2)
        #expect(html.components(separatedBy: "<section class=\"indicator-page\"").count == 4)
        #expect(html.contains("ESL learners enrolled") && html.contains("break-before: page"))
        #expect(html.contains("No story has been written for 2026-03 or before."))
        #expect(!html.contains("<script"))
    }

    @Test func aPageShowsTheStoryInForceMarkedStaleAndOnlyQuotedWords() async throws {
        let app = try await R.start()
        let saved = try await app.coordinator(
            "PUT", "/v1/stories/esl_learners/2026-01",
            json: #"{"story_behind_the_curve": "January: the bus route changed.\n\nEnrolment followed it."}"#)
        #expect(saved.status == 201, "\(saved.text)")
        let quoted = try await app.request(
            "POST", "/v1/contributions", key: try await app.key(role: "partner", partner: "p3"),
            json: #"{"indicator": "esl_learners", "period": "2026-03", "text": "Waiting lists doubled in March."}"#)
        let literacyNow = try await app.key(role: "partner", partner: "literacy-now")
        _ = try await app.request(
            "POST", "/v1/contributions", key: literacyNow,
            json: #"{"indicator": "esl_learners", "period": "2026-03", "text": "Not for the board."}"#)
        let january = try await app.request(
            "POST", "/v1/contributions", key: literacyNow,
            json: #"{"indicator": "esl_learners", "period": "2026-01", "text": "January's classes filled."}"#)
        #expect(quoted.status == 201, "\(quoted.text)")
        let before = Self.indicators(try await Self.packet(app, "agenda=literacy&period=2026-Q1"))["esl_learners"]
        #expect((before?["quotes"] as? [Any])?.isEmpty == true, "nothing a partner wrote is shown unquoted")
        for id in [quoted.json["id"], january.json["id"]] {
            let quoting = try await app.coordinator(
                "PATCH", "/v1/contributions/\(id as? Int ?? 0)", json: #"{"quoted": true}"#)
            #expect(quoting.status == 200, "\(quoting.text)")
        }

        let esl = Self.indicators(try await Self.packet(app, "agenda=literacy&period=2026-Q1"))["esl_learners"]
        let story = esl?["story"] as? [String: Any]
        #expect(esl?["reporting_period"] as? String == "2026-03")
        #expect(story?["written_for"] as? String == "2026-01" && story?["stale"] as? Bool == true)
        #expect((story?["story_behind_the_curve"] as? String)?.hasPrefix("January: the bus route changed.") == true)
        let quotes = esl?["quotes"] as? [[String: Any]] ?? []
        // The quarter's packet quotes its months, in period order.
        #expect(
            quotes.map { $0["text"] as? String } == ["January's classes filled.", "Waiting lists doubled in March."])
        #expect(quotes.last?["partner"] as? String == "p3" && quotes.last?["partner_name"] as? String == "p3")
        // The January packet: the same story, for its own period, and January's words only.
        let januaryPage = Self.indicators(try await Self.packet(app, "agenda=literacy&period=2026-01"))["esl_learners"]
        #expect((januaryPage?["story"] as? [String: Any])?["stale"] as? Bool == false)
        #expect(
            (januaryPage?["quotes"] as? [[String: Any]])?.map { $0["text"] as? String } == [
                "January's classes filled."
            ],
            "March's words are not January's")

        let html = try await app.coordinator("GET", "/dashboard/board-packet?agenda=literacy&period=2026-Q1").text
        #expect(html.contains("<p>January: the bus route changed.</p>\n<p>Enrolment followed it.</p>"))
        #expect(
            html.contains("Written for 2026-01") && html.contains("No story has been written for a later period yet."))
        #expect(html.contains("Waiting lists doubled in March.") && !html.contains("Not for the board."))
    }

    @Test func anEquityChartOfMoreNeighborhoodsThanAPageHoldsIsDrawnALevelUp() async throws {
        let app = try await R.start()
        _ = try await app.coordinator(
            "POST", "/v1/neighborhoods",
            json: #"{"code": "east", "name": "East", "parent": "city", "population": 30000}"#)
        var rows: [String] = []
        for n in 1...17 {
            let code = "east-\(n)"
            _ = try await app.coordinator(
                "POST", "/v1/neighborhoods",
                json: #"{"code": "\#(code)", "name": "East \#(n)", "parent": "east", "population": 1000}"#)
            rows.append(
                #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "\#(code)", "period": "2026-01", "value": \#(n), "dimensions": {"age_group": "16-24"}}"#
            )
        }
        #expect(try await app.coordinator("POST", "/v1/measurements", json: batch(rows)).status == 200)
        let equity = try await app.coordinator("GET", "/v1/reports/equity?indicator=esl_learners&period=2026-01")
        #expect((equity.json["neighborhoods"] as? [Any])?.count ?? 0 > BoardPacketSource.maxBars)
        let esl = Self.indicators(try await Self.packet(app, "agenda=literacy&period=2026-01"))["esl_learners"]
        let shown = (esl?["neighborhoods"] as? [[String: Any]])?.compactMap { $0["neighborhood"] as? String }
        #expect(Set(shown ?? []) == ["northside", "southside", "east"], "\(shown ?? [])")
        let html = try await app.coordinator("GET", "/dashboard/board-packet?agenda=literacy&period=2026-01").text
        #expect(
            html.contains("Shown at level 1 of the neighborhood tree: more neighborhoods than a printed page can show"))
    }

    @Test func aPublicationsBytesNeverChangeAndTheNextListsWhatWasRevised() async throws {
        let app = try await R.start()
        let published = try await app.coordinator(
            "POST", "/v1/publications",
            json: #"{"agenda": "literacy", "period": "2026-Q1", "title": "March board", "audience": "coordinator"}"#)
        #expect(published.status == 201, "\(published.text)")
        let id = published.json["id"] as? Int ?? 0
        #expect(published.header("location") == "/v1/publications/\(id)")
        let json = try await app.coordinator("GET", "/v1/publications/\(id)")
        let html = try await app.coordinator("GET", "/v1/publications/\(id)?format=html")
        #expect(json.status == 200 && html.status == 200 && html.header("content-type")?.hasPrefix("text/html") == true)
        #expect(try Self.sha256(json.body) == published.json["json_sha256"] as? String)
        #expect(try Self.sha256(html.body) == published.json["html_sha256"] as? String)
        #expect(json.header("x-content-sha256") == published.json["json_sha256"] as? String)
        #expect(json.json["title"] as? String == "March board" && json.json["published_at"] is String)
        #expect(html.text.contains("March board"))

        // A correction of January: the publication's bytes stay; the live packet and the next publication move.
        let correction = try await app.coordinator(
            "POST", "/v1/measurements",
            json:
                #"{"partner": "central-library", "indicator": "esl_learners", "neighborhood": "northside", "period": "2026-01", "value": 15, "dimensions": {"age_group": "16-24"}}"#
        )
        #expect(correction.status == 200, "\(correction.text)")
        let again = try await app.coordinator("GET", "/v1/publications/\(id)")
        let htmlAgain = try await app.coordinator("GET", "/v1/publications/\(id)?format=html")
        #expect(again.body == json.body && htmlAgain.body == html.body, "the frozen bytes do not move")
        let live = try await Self.packet(app, "agenda=literacy&period=2026-Q1")
        #expect(Self.series(Self.indicators(live)["esl_learners"])["2026-01"] == 112)
        let revision: [String: Any] = [
            "indicator": "esl_learners", "period": "2026-01", "before": 107.0, "after": 112.0,
        ]
        func revisions(_ packet: [String: Any]) -> [[String: Any]] {
            (packet["since_last"] as? [String: Any])?["revisions"] as? [[String: Any]] ?? []
        }
        func same(_ found: [[String: Any]]) -> Bool {
            found.count == 1 && found[0]["indicator"] as? String == revision["indicator"] as? String
                && found[0]["period"] as? String == "2026-01" && R.number(found[0]["before"]) == 107
                && R.number(found[0]["after"]) == 112
        }
        #expect(same(revisions(live)), "\(revisions(live))")
        let second = try await app.coordinator(
            "POST", "/v1/publications",
            json:
                #"{"agenda": "literacy", "period": "2026-Q1", "title": "March board, corrected", "audience": "coordinator"}"#
        )
        let secondJSON = try await app.coordinator("GET", "/v1/publications/\(second.json["id"] as? Int ?? 0)")
        #expect((secondJSON.json["since_last"] as? [String: Any])?["publication"] as? Int == id)
        #expect(same(revisions(secondJSON.json)))
        let secondHTML = try await app.coordinator(
            "GET", "/v1/publications/\(second.json["id"] as? Int ?? 0)?format=html")
        #expect(secondHTML.text.contains("revised to 112 (was 107)"))
    }

    @Test func aCoordinatorPublicationIsForCoordinatorsAndAPublicOneForEveryKey() async throws {
        let app = try await R.start()
        _ = try await app.release("literacy", "2026-01")
        let coordinatorsOnly = try await app.coordinator(
            "POST", "/v1/publications",
            json: #"{"agenda": "literacy", "period": "2026-01", "title": "Internal", "audience": "coordinator"}"#)
        let open = try await app.coordinator(
            "POST", "/v1/publications",
            json: #"{"agenda": "literacy", "period": "2026-01", "title": "For the board", "audience": "public"}"#)
        #expect(coordinatorsOnly.status == 201 && open.status == 201)
        let viewer = try await app.key(role: "viewer")
        let partner = try await app.key(role: "partner", partner: "p3")
        for key in [viewer, partner] {
            let hidden = try await app.request(
                "GET", "/v1/publications/\(coordinatorsOnly.json["id"] as? Int ?? 0)", key: key)
            #expect(hidden.status == 404 && hidden.isProblem)
            let shown = try await app.request("GET", "/v1/publications/\(open.json["id"] as? Int ?? 0)", key: key)
            #expect(shown.status == 200 && shown.json["audience"] as? String == "public")
            let listed = try await app.request("GET", "/v1/publications?agenda=literacy", key: key)
            #expect((listed.json["items"] as? [[String: Any]])?.map { $0["title"] as? String } == ["For the board"])
        }
        let all = try await app.coordinator("GET", "/v1/publications")
        #expect(
            (all.json["items"] as? [[String: Any]])?.map { $0["title"] as? String } == ["For the board", "Internal"])
        // The public packet is what the viewer's own reports show.
        let shown = try await app.request("GET", "/v1/publications/\(open.json["id"] as? Int ?? 0)", key: viewer)
        let report = try await app.request(
            "GET", "/v1/reports/indicators/esl_learners?by=period&to=2026-01", key: viewer)
        let viewersRow = R.rows(report).first { $0["period"] as? String == "2026-01" }
        let esl = Self.indicators(shown.json)["esl_learners"]
        #expect(viewersRow != nil && Self.series(esl)["2026-01"] == R.number(viewersRow?["value"]))
        #expect(
            (esl?["series"] as? [[String: Any]])?.first?["suppressed"] as? Bool == viewersRow?["suppressed"] as? Bool)

        let refused = try await app.request(
            "POST", "/v1/publications", key: partner,
            json: #"{"agenda": "literacy", "period": "2026-01", "title": "Mine", "audience": "public"}"#)
        #expect(refused.status == 403)
        let invalid = try await app.coordinator(
            "POST", "/v1/publications",
            json: #"{"agenda": "nowhere", "period": "2026-13", "title": " ", "audience": "board", "extra": 1}"#)
        #expect(invalid.status == 422)
        #expect(Set(invalid.fieldErrors.map(\.field)) == ["period", "title", "audience", "extra"], "\(invalid.text)")
        let unknown = try await app.coordinator(
            "POST", "/v1/publications",
            json: #"{"agenda": "nowhere", "period": "2026-01", "title": "X", "audience": "public"}"#)
        #expect(unknown.status == 422 && unknown.fieldErrors.map(\.field) == ["agenda"], "\(unknown.text)")
        #expect(try app.count("publications") == 2, "nothing refused was stored")
    }
}
