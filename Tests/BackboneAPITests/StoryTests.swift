import Aggregation
import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// The story behind the curve: versions kept and restored, the story in force for a period
/// (stale when written for an earlier one), neighborhoods' own stories, and what is refused.
@Suite struct StoryTests {
    /// A body with these parts (new lines escaped for JSON).
    static func story(_ text: String, partners: String = "") -> String {
        let escaped = text.replacingOccurrences(of: "\n", with: "\\n")
        return #"{"story_behind_the_curve": "\#(escaped)", "partners": "\#(partners)"}"#
    }

    static func start() async throws -> TestApp {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        return app
    }

    @Test func everySaveIsAVersionAndARestoreSavesTheOldTextAgain() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let path = "/v1/stories/esl_learners/2026-01"

        let first = try await app.coordinator("PUT", path, json: Self.story("Enrolment fell.\n\nThe bus line closed."))
        #expect(first.status == 201, "\(first.text)")
        #expect(first.json["written_for"] as? String == "2026-01" && first.json["stale"] as? Bool == false)
        #expect(first.json["partners"] as? String == "" && first.json["what_works"] as? String == "")
        #expect(first.json["restored_from"] is NSNull && first.json["saved_by"] as? String != nil)
        let firstID = try #require(first.json["version"] as? Int)
        let second = try await app.coordinator("PUT", path, json: Self.story("Enrolment recovered."))
        #expect(second.status == 200, "\(second.text)")

        let history = try await app.request("GET", "\(path)/history", key: try await app.key(role: "viewer"))
        #expect(history.status == 200, "\(history.text)")
        let texts = (history.json["items"] as? [[String: Any]] ?? []).map { $0["story_behind_the_curve"] as? String }
        #expect(texts == ["Enrolment recovered.", "Enrolment fell.\n\nThe bus line closed."], "newest first")

        let restored = try await app.coordinator("POST", "\(path)/history/\(firstID)/restore")
        #expect(restored.status == 201, "\(restored.text)")
        #expect(restored.json["restored_from"] as? Int == firstID)
        #expect(restored.json["story_behind_the_curve"] as? String == "Enrolment fell.\n\nThe bus line closed.")
        #expect((restored.json["version"] as? Int ?? 0) > firstID)
        let current = try await app.coordinator("GET", path)
        #expect(current.json["version"] as? Int == restored.json["version"] as? Int)
        #expect(try app.count("story_versions") == 3)

        let paged = try await app.coordinator("GET", "\(path)/history?limit=2")
        let cursor = try #require(paged.json["next_cursor"] as? String)
        let rest = try await app.coordinator("GET", "\(path)/history?limit=2&cursor=\(cursor)")
        #expect((rest.json["items"] as? [[String: Any]])?.map { $0["version"] as? Int } == [firstID])

        // A version of another period is not this period's to restore.
        #expect(
            try await app.coordinator("PUT", "/v1/stories/esl_learners/2026-02", json: Self.story("x")).status == 201)
        #expect(
            try await app.coordinator("POST", "/v1/stories/esl_learners/2026-02/history/\(firstID)/restore").status
                == 404)
        #expect(try await app.coordinator("POST", "\(path)/history/99999/restore").status == 404)
    }

    @Test func theStoryInForceIsTheLatestPeriodsAtOrBeforeTheOneAskedAndSaysWhenItIsStale() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        #expect(try await app.coordinator("GET", "/v1/stories/esl_learners/2026-03").status == 404)
        #expect(
            try await app.coordinator("PUT", "/v1/stories/esl_learners/2026-01", json: Self.story("January")).status
                == 201)

        let later = try await app.request(
            "GET", "/v1/stories/esl_learners/2026-03", key: try await app.key(role: "partner", partner: "literacy-now"))
        #expect(later.status == 200, "\(later.text)")
        #expect(later.json["period"] as? String == "2026-03" && later.json["written_for"] as? String == "2026-01")
        #expect(later.json["stale"] as? Bool == true)
        let same = try await app.coordinator("GET", "/v1/stories/esl_learners/2026-01")
        #expect(same.json["stale"] as? Bool == false)
        #expect(try await app.coordinator("GET", "/v1/stories/esl_learners/2025-12").status == 404)

        // A story written later for an earlier period does not replace the later period's.
        #expect(
            try await app.coordinator("PUT", "/v1/stories/esl_learners/2025-12", json: Self.story("December")).status
                == 201)
        let still = try await app.coordinator("GET", "/v1/stories/esl_learners/2026-03")
        #expect(still.json["story_behind_the_curve"] as? String == "January")
        #expect(
            try await app.coordinator("GET", "/v1/stories/esl_learners/2025-12").json["written_for"] as? String
                == "2025-12")
        #expect(
            try await app.coordinator("PUT", "/v1/stories/esl_learners/2026-02", json: Self.story("February")).status
                == 201)
        #expect(
            try await app.coordinator("GET", "/v1/stories/esl_learners/2026-03").json["written_for"] as? String
                == "2026-02")

        // The core call the board packet makes gives the same answer.
        let period = try #require(Period("2026-05"))
        let inForce = try Stories.inForce(try Connection(app.conninfo), indicator: "esl_learners", period: period)
        #expect(inForce?.writtenFor.description == "2026-02" && inForce?.storyBehindTheCurve == "February")
    }

    @Test func anAgendasStoriesInForceAreListedForAPeriodOfAnyType() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        #expect(
            try await app.coordinator("PUT", "/v1/stories/esl_learners/2026-01", json: Self.story("Jan")).status == 201)
        #expect(try await app.coordinator("PUT", "/v1/stories/pass_rate/2025-Q4", json: Self.story("Q4")).status == 201)

        let quarter = try await app.request(
            "GET", "/v1/stories?agenda=literacy&period=2026-Q1", key: try await app.key(role: "viewer"))
        #expect(quarter.status == 200, "\(quarter.text)")
        let items = quarter.json["items"] as? [[String: Any]] ?? []
        #expect(items.map { $0["indicator"] as? String } == ["esl_learners", "pass_rate"])
        #expect(items.map { $0["written_for"] as? String } == ["2026-01", "2025-Q4"])
        #expect(items.map { $0["stale"] as? Bool } == [true, true], "January and 2025-Q4 both end before 2026-Q1 does")
        #expect(quarter.json["without_story"] as? [String] == ["volunteers"], "active indicators only")

        let month = try await app.coordinator("GET", "/v1/stories?agenda=literacy&period=2026-01")
        let stale = (month.json["items"] as? [[String: Any]] ?? []).map { $0["stale"] as? Bool }
        #expect(stale == [false, true])
        #expect(try await app.coordinator("GET", "/v1/stories?agenda=nowhere&period=2026-01").status == 404)
        #expect(try await app.coordinator("GET", "/v1/stories?agenda=literacy").status == 400)
    }

    @Test func aNeighborhoodsStoryIsItsOwnAndDoesNotFallBackToTheCommunitys() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let saved = try await app.coordinator(
            "PUT", "/v1/stories/esl_learners/2026-01?neighborhood=northside", json: Self.story("Northside"))
        #expect(saved.status == 201 && saved.json["neighborhood"] as? String == "northside", "\(saved.text)")
        #expect(try await app.coordinator("GET", "/v1/stories/esl_learners/2026-02").status == 404)
        #expect(
            try await app.coordinator("PUT", "/v1/stories/esl_learners/2026-01", json: Self.story("City")).status == 201
        )
        let community = try await app.coordinator("GET", "/v1/stories/esl_learners/2026-02")
        #expect(
            community.json["story_behind_the_curve"] as? String == "City" && community.json["neighborhood"] is NSNull)
        let own = try await app.coordinator("GET", "/v1/stories/esl_learners/2026-02?neighborhood=northside")
        #expect(own.json["story_behind_the_curve"] as? String == "Northside")
        #expect(
            try await app.coordinator("GET", "/v1/stories/esl_learners/2026-02?neighborhood=southside").status == 404)
        let history = try await app.coordinator(
            "GET", "/v1/stories/esl_learners/2026-01/history?neighborhood=northside")
        #expect((history.json["items"] as? [[String: Any]])?.count == 1)
        let unknown = try await app.coordinator("GET", "/v1/stories/esl_learners/2026-02?neighborhood=nowhere")
        #expect(unknown.status == 422 && unknown.fieldErrors.map(\.field) == ["neighborhood"], "\(unknown.text)")
    }

    @Test func whatIsRefusedNamesItsFieldAndStoresNothing() async throws {
        let app = try await Self.start()
        defer { Task { try await app.stop() } }
        let path = "/v1/stories/esl_learners/2026-01"
        let long = String(repeating: "a", count: 10_001)
        let tooLong = try await app.coordinator("PUT", path, json: #"{"what_works": "\#(long)"}"#)
        #expect(tooLong.status == 422 && tooLong.isProblem, "\(tooLong.text)")
        #expect(tooLong.fieldErrors.map(\.field) == ["what_works"] && tooLong.fieldErrors.map(\.code) == ["too-long"])
        let atLimit = String(repeating: "é", count: 10_000)
        #expect(try await app.coordinator("PUT", path, json: #"{"action_plan": "\#(atLimit)"}"#).status == 201)

        let cases: [(String, String, Int, String)] = [
            (path, #"{"partners": "  \n\n "}"#, 422, "story_behind_the_curve"),
            (path, #"{"story": "typo"}"#, 422, "story"),
            (path, #"{"partners": 3}"#, 422, "partners"),
            ("/v1/stories/retired/2026-01", Self.story("x"), 422, "indicator"),
            ("/v1/stories/esl_learners/2026-Q1", Self.story("x"), 422, "period"),
            ("/v1/stories/esl_learners/January", Self.story("x"), 422, "period"),
            ("\(path)?neighborhood=nowhere", Self.story("x"), 422, "neighborhood"),
        ]
        for (target, body, status, field) in cases {
            let response = try await app.coordinator("PUT", target, json: body)
            #expect(
                response.status == status && response.fieldErrors.map(\.field) == [field],
                "\(target) \(body): \(response.text)")
        }
        let unknown = try await app.coordinator("PUT", "/v1/stories/no_such/2026-01", json: Self.story("x"))
        #expect(unknown.status == 404 && unknown.isProblem)
        #expect(try app.count("story_versions") == 1)

        let partner = try await app.key(role: "partner", partner: "central-library")
        #expect(try await app.request("PUT", path, key: partner, json: Self.story("mine")).status == 403)
        #expect(try await app.request("POST", "\(path)/history/1/restore", key: partner).status == 403)
        #expect(try await app.request("GET", path, key: partner).status == 200)
        #expect(try app.count("story_versions") == 1)
    }
}
