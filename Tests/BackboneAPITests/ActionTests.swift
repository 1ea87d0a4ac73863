import Aggregation
import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// The action plan: the coordinator creates actions, the owning partner keeps their status
/// and note up, every key reads them, and every change is kept with who made it.
@Suite("Actions")
struct ActionTests {
    static func action(
        indicator: String = "esl_learners", title: String = "Open a Saturday class", owner: String = "central-library",
        due: String = "2030-06-30", extra: String = ""
    ) -> String {
        #"{"indicator": "\#(indicator)", "title": "\#(title)", "owner": "\#(owner)", "due": "\#(due)"\#(extra)}"#
    }

    static func ids(_ response: RawHTTPClient.Response) -> [Int] {
        (response.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
    }

    @Test func createListFilterAndRead() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let created = try await app.coordinator("POST", "/v1/actions", json: Self.action())
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? Int)
        #expect(created.header("location") == "/v1/actions/\(id)")
        #expect(created.json["status"] as? String == "planned")
        #expect(created.json["note"] as? String == "")
        #expect(created.json["overdue"] as? Bool == false)
        #expect(created.json["due"] as? String == "2030-06-30")
        #expect(created.json["created_at"] is String && created.json["updated_at"] is String)

        let late = try await app.coordinator(
            "POST", "/v1/actions",
            json: Self.action(
                indicator: "pass_rate", title: "Tutor the spring cohort", owner: "literacy-now", due: "2025-01-31",
                extra: #", "status": "in_progress", "note": "Two tutors found""#))
        #expect(late.status == 201, "\(late.text)")
        #expect(late.json["overdue"] as? Bool == true)
        let lateID = try #require(late.json["id"] as? Int)

        let viewer = try await app.key(role: "viewer")
        let all = try await app.request("GET", "/v1/actions", key: viewer)
        #expect(all.status == 200 && Self.ids(all) == [id, lateID], "\(all.text)")
        #expect(Self.ids(try await app.request("GET", "/v1/actions?owner=literacy-now", key: viewer)) == [lateID])
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?indicator=esl_learners")) == [id])
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?status=in_progress")) == [lateID])
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?overdue=true")) == [lateID])
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?overdue=false")) == [id])
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?agenda=literacy")) == [id, lateID])
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?agenda=other")) == [])
        let first = try await app.coordinator("GET", "/v1/actions?limit=1")
        #expect(Self.ids(first) == [id])
        let cursor = try #require(first.json["next_cursor"] as? String)
        #expect(Self.ids(try await app.coordinator("GET", "/v1/actions?limit=1&cursor=\(cursor)")) == [lateID])

        let badStatus = try await app.coordinator("GET", "/v1/actions?status=finished")
        #expect(badStatus.status == 400 && badStatus.fieldErrors.map(\.field) == ["status"])
        #expect(try await app.coordinator("GET", "/v1/actions?overdue=maybe").fieldErrors.map(\.field) == ["overdue"])
        #expect(try await app.coordinator("GET", "/v1/actions?colour=red").status == 400)

        // What the board packet reads: an indicator's actions by due day, then id.
        let sooner = try await app.coordinator("POST", "/v1/actions", json: Self.action(due: "2026-01-15"))
        let soonerID = try #require(sooner.json["id"] as? Int)
        let plan = try Actions.of(try Connection(app.conninfo), indicator: "esl_learners")
        #expect(plan.map(\.id) == [soonerID, id])
        #expect(plan[0].isOverdue(today: Day(year: 2026, month: 1, day: 16)))
        #expect(!plan[0].isOverdue(today: Day(year: 2026, month: 1, day: 15)))

        let read = try await app.request("GET", "/v1/actions/\(id)", key: viewer)
        #expect(read.status == 200 && read.json["title"] as? String == "Open a Saturday class")
        #expect(try await app.coordinator("GET", "/v1/actions/999999").status == 404)
        #expect(try await app.coordinator("GET", "/v1/actions/nope").status == 404)
    }

    @Test func badInputIsRefusedNamingTheFieldAndNothingIsStored() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let cases: [(String, [String])] = [
            (#"{}"#, ["due", "indicator", "owner", "title"]),
            (Self.action(extra: #", "status": "finished""#), ["status"]),
            (Self.action(extra: #", "colour": "red""#), ["colour"]),
            (Self.action(due: "2026-02-30"), ["due"]),
            (Self.action(due: "next week"), ["due"]),
            (Self.action(title: "  "), ["title"]),
            (Self.action(title: String(repeating: "x", count: 201)), ["title"]),
            (Self.action(extra: #", "note": "\#(String(repeating: "n", count: 2001))""#), ["note"]),
            (Self.action(indicator: "nothing"), ["indicator"]),
            (Self.action(indicator: "retired"), ["indicator"]),
            (Self.action(owner: "nobody"), ["owner"]),
        ]
        for (body, fields) in cases {
            let response = try await app.coordinator("POST", "/v1/actions", json: body)
            #expect(response.status == 422 && response.isProblem, "\(body): \(response.text)")
            #expect(response.fieldErrors.map(\.field).sorted() == fields, "\(body): \(response.text)")
        }
        #expect(try app.count("actions") == 0 && app.count("action_history") == 0)

        let created = try await app.coordinator("POST", "/v1/actions", json: Self.action())
        let id = try #require(created.json["id"] as? Int)
        let nulled = try await app.coordinator("PATCH", "/v1/actions/\(id)", json: #"{"note": null, "due": "soon"}"#)
        #expect(nulled.status == 422 && nulled.fieldErrors.map(\.field).sorted() == ["due", "note"])
        #expect(try app.count("action_history") == 1)
    }

    @Test func theOwningPartnerUpdatesStatusAndNoteAndHistoryKeepsEveryChange() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let created = try await app.coordinator("POST", "/v1/actions", json: Self.action(due: "2025-03-31"))
        let id = try #require(created.json["id"] as? Int)
        #expect(created.json["overdue"] as? Bool == true)
        let owner = try await app.key(role: "partner", partner: "central-library")
        let other = try await app.key(role: "partner", partner: "literacy-now")
        let viewer = try await app.key(role: "viewer")

        let started = try await app.request(
            "PATCH", "/v1/actions/\(id)", key: owner, json: #"{"status": "in_progress", "note": "Room booked"}"#)
        #expect(started.status == 200, "\(started.text)")
        #expect(started.json["status"] as? String == "in_progress" && started.json["overdue"] as? Bool == true)

        let retitled = try await app.request(
            "PATCH", "/v1/actions/\(id)", key: owner, json: #"{"title": "Mine now", "due": "2031-01-01"}"#)
        #expect(retitled.status == 403 && retitled.isProblem, "\(retitled.text)")
        #expect(retitled.fieldErrors.map(\.field).sorted() == ["due", "title"])
        let meddled = try await app.request("PATCH", "/v1/actions/\(id)", key: other, json: #"{"status": "done"}"#)
        #expect(meddled.status == 403, "\(meddled.text)")
        let viewed = try await app.request("PATCH", "/v1/actions/\(id)", key: viewer, json: #"{"status": "done"}"#)
        #expect(viewed.status == 403)
        #expect(try await app.request("POST", "/v1/actions", key: owner, json: Self.action()).status == 403)

        let done = try await app.request("PATCH", "/v1/actions/\(id)", key: owner, json: #"{"status": "done"}"#)
        #expect(done.status == 200 && done.json["overdue"] as? Bool == false, "\(done.text)")
        #expect(done.json["note"] as? String == "Room booked")
        let moved = try await app.coordinator(
            "PATCH", "/v1/actions/\(id)", json: #"{"owner": "literacy-now", "title": "Handed over"}"#)
        #expect(moved.status == 200 && moved.json["owner"] as? String == "literacy-now")
        #expect(try await app.coordinator("PATCH", "/v1/actions/\(id)", json: "{}").status == 200)

        let history = try await app.request("GET", "/v1/actions/\(id)/history", key: other)
        #expect(history.status == 200, "\(history.text)")
        let entries = history.json["items"] as? [[String: Any]] ?? []
        #expect(entries.compactMap { $0["change"] as? String } == ["created", "updated", "updated", "updated"])
        let states = entries.compactMap { $0["action"] as? [String: Any] }
        #expect(states.compactMap { $0["status"] as? String } == ["planned", "in_progress", "done", "done"])
        #expect(states.compactMap { $0["owner"] as? String }.last == "literacy-now")
        let keys = entries.compactMap { $0["key"] as? String }
        #expect(keys.count == 4 && keys[1] == keys[2] && keys[0] == keys[3] && keys[0] != keys[1])
        #expect(entries.allSatisfy { $0["at"] is String })
        let page = try await app.coordinator("GET", "/v1/actions/\(id)/history?limit=3")
        let next = try #require(page.json["next_cursor"] as? String)
        let rest = try await app.coordinator("GET", "/v1/actions/\(id)/history?cursor=\(next)")
        #expect((rest.json["items"] as? [[String: Any]])?.count == 1)
        #expect(try await app.coordinator("GET", "/v1/actions/999999/history").status == 404)
    }
}
