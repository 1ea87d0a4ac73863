import BackboneCore
import Foundation
import Postgres
import TestSupport
import Testing

/// Events in the outbox (docs/events.md#events): each written in the transaction of the
/// change that causes it, with its documented data, and none for a change that rolled back,
/// a dry run or a batch that stored nothing.
@Suite("Events")
struct EventTests {
    /// One stored event.
    struct Event {
        var id: Int
        var type: String
        var agenda: String?
        var partner: String?
        var data: [String: Any]
    }

    static func events(_ app: TestApp, after id: Int = 0) throws -> [Event] {
        let connection = try Connection(app.conninfo)
        return try connection.query(
            "SELECT id, type, agenda_id, partner_id, data::text FROM outbox_events WHERE id > \(id) ORDER BY id"
        ).map { row in
            let (id, type, agenda, partner, text) = try row.decode((Int, String, String?, String?, String).self)
            let data = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
            return Event(id: id, type: type, agenda: agenda, partner: partner, data: data)
        }
    }

    static func lastID(_ app: TestApp) throws -> Int {
        try events(app).last?.id ?? 0
    }

    static func other(_ json: String) -> String {
        json.replacingOccurrences(of: "central-library", with: "literacy-now")
    }

    @Test func aStoredBatchWritesOneSubmissionEventPerPartnerWithItsOwnCountsAndNoValues() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let body = batch([
            row(value: "11"), row(period: "2026-04", value: "12"), Self.other(row(value: "13")),
        ])
        let stored = try await app.coordinator("POST", "/v1/measurements", json: body)
        #expect(stored.status == 200, "\(stored.text)")
        let batchID = try #require(stored.json["batch_id"] as? String)
        let written = try Self.events(app)
        #expect(written.map(\.type) == ["measurements.submitted", "measurements.submitted"])
        #expect(written.map(\.partner) == ["central-library", "literacy-now"])
        let library = written[0].data
        #expect(library["batch_id"] as? String == batchID && library["partner"] as? String == "central-library")
        #expect(library["received"] as? Int == 2 && library["created"] as? Int == 2, "\(library)")
        #expect(
            library["updated"] as? Int == 0 && library["unchanged"] as? Int == 0 && library["rejected"] as? Int == 0)
        #expect(library["indicators"] as? [String] == ["esl_learners"])
        #expect(library["periods"] as? [String] == ["2026-03", "2026-04"])
        #expect(written[0].agenda == "literacy")
        let now = written[1].data
        #expect(
            now["received"] as? Int == 1 && now["created"] as? Int == 1 && now["periods"] as? [String] == ["2026-03"])
        // Counts and keys only: no value, and nothing of the other partner.
        for event in written {
            var data = event.data
            data["batch_id"] = nil  // a UUID's digits may spell anything
            let text = String(decoding: try JSONSerialization.data(withJSONObject: data), as: UTF8.self)
            #expect(!text.contains("value") && !text.contains("11") && !text.contains("13"), "\(text)")
            #expect(!text.contains(event.partner == "literacy-now" ? "central-library" : "literacy-now"), "\(text)")
        }

        // One value changed, one the same: counted; the same batch again stores nothing and writes nothing.
        let last = try Self.lastID(app)
        let changed = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(value: "21"), row(period: "2026-04", value: "12")]))
        #expect(changed.status == 200, "\(changed.text)")
        let update = try Self.events(app, after: last)
        #expect(update.count == 1 && update[0].data["updated"] as? Int == 1 && update[0].data["unchanged"] as? Int == 1)
        let again = try Self.lastID(app)
        _ = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(value: "21"), row(period: "2026-04", value: "12")]))
        #expect(try Self.events(app, after: again).isEmpty)

        // A dry run, and a batch refused whole (mode all) write nothing.
        let dry = try await app.coordinator("POST", "/v1/measurements?dry_run=true", json: batch([row(value: "99")]))
        #expect(dry.status == 200, "\(dry.text)")
        let refused = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(period: "2026-05", value: "5"), row(indicator: "nope")]))
        #expect(refused.status == 422, "\(refused.text)")
        #expect(try Self.events(app, after: again).isEmpty)

        // Partial: the stored row counts, the rejected one too.
        let partial = try await app.coordinator(
            "POST", "/v1/measurements?mode=partial",
            json: batch([row(period: "2026-05", value: "5"), row(indicator: "nope")]))
        #expect(partial.status == 200, "\(partial.text)")
        let kept = try Self.events(app, after: again)
        #expect(kept.count == 1 && kept[0].data["created"] as? Int == 1 && kept[0].data["rejected"] as? Int == 1)

        // A partner key's batch names that partner.
        let partner = try await app.key(role: "partner", partner: "literacy-now")
        let own = try Self.lastID(app)
        let mine = try await app.request(
            "POST", "/v1/measurements", key: partner, json: batch([Self.other(row(period: "2026-06"))]))
        #expect(mine.status == 200, "\(mine.text)")
        #expect(try Self.events(app, after: own).map(\.partner) == ["literacy-now"])

        // A coordinator's batch for two partners that changes one stored row and creates
        // another: each partner's own counts.
        let mixed = try Self.lastID(app)
        let both = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(value: "31"), Self.other(row(period: "2026-07", value: "7"))]))
        #expect(both.status == 200, "\(both.text)")
        let counted = try Self.events(app, after: mixed)
        #expect(counted.map(\.partner) == ["central-library", "literacy-now"])
        #expect(
            counted.map { $0.data["created"] as? Int } == [0, 1]
                && counted.map { $0.data["updated"] as? Int } == [1, 0])
    }

    @Test func withSubmissionEventsOffABatchIsStoredAndWritesNoEvent() async throws {
        let app = try await TestApp.start(submissionEvents: false)
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let stored = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(value: "11"), Self.other(row(value: "13"))]))
        #expect(stored.status == 200 && stored.json["created"] as? Int == 2, "\(stored.text)")
        #expect(try Self.events(app).isEmpty)
    }

    @Test func locksCorrectionsReleasesAndPublicationsWriteTheirEventsAndABadLockNone() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let stored = try await app.coordinator(
            "POST", "/v1/measurements", json: batch([row(value: "11"), row(period: "2026-02", value: "9")]))
        #expect(stored.status == 200, "\(stored.text)")
        let start = try Self.lastID(app)
        let bad = try await app.coordinator("POST", "/v1/locks", json: #"{"agenda": "literacy", "period": "2026-13"}"#)
        #expect(bad.status == 422)
        let unknown = try await app.coordinator("POST", "/v1/locks", json: #"{"agenda": "nope", "period": "2026-Q1"}"#)
        #expect(unknown.status == 422)
        #expect(try Self.events(app, after: start).isEmpty)

        // Written in the change's transaction: seen inside it, gone with its rollback.
        struct Undo: Error {}
        let connection = try Connection(app.conninfo)
        #expect(throws: Undo.self) {
            try connection.transaction { connection in
                _ = try PeriodLocks.create(
                    connection, agenda: "literacy", indicator: nil, period: "2027-Q1", reason: nil, keyID: "test")
                let inside = try connection.query("SELECT count(*) FROM outbox_events WHERE type = 'period.locked'")
                #expect(try inside[0].decode(Int.self) == 1)
                throw Undo()
            }
        }
        #expect(try Self.events(app, after: start).isEmpty)

        let lock = try await app.coordinator(
            "POST", "/v1/locks", json: #"{"agenda": "literacy", "period": "2026-Q1", "reason": "final"}"#)
        #expect(lock.status == 201, "\(lock.text)")
        let locked = try Self.events(app, after: start)
        #expect(locked.map(\.type) == ["period.locked"] && locked[0].partner == nil && locked[0].agenda == "literacy")
        #expect(locked[0].data["period"] as? String == "2026-Q1" && locked[0].data["reason"] as? String == "final")
        #expect(locked[0].data["lock"] as? Int == lock.json["id"] as? Int)

        // The coordinator corrects a value in the locked quarter: one event with the change listed.
        let before = try Self.lastID(app)
        let correction = try await app.coordinator("POST", "/v1/measurements", json: batch([row(value: "12")]))
        #expect(correction.status == 200, "\(correction.text)")
        let corrected = try Self.events(app, after: before).filter { $0.type == "measurements.corrected" }
        #expect(corrected.count == 1 && corrected[0].partner == "central-library")
        let changes = corrected.first?.data["changes"] as? [[String: Any]] ?? []
        #expect(changes.count == 1 && changes.first?["action"] as? String == "updated", "\(changes)")
        #expect(
            changes.first?["period"] as? String == "2026-03" && changes.first?["indicator"] as? String == "esl_learners"
        )
        #expect(corrected.first?.data["count"] as? Int == 1 && corrected.first?.data["truncated"] as? Bool == false)

        // A retraction in the locked quarter is a correction too; outside a lock it is not.
        let items =
            try await app.coordinator("GET", "/v1/measurements?from=2026-02&to=2026-02").json["items"]
            as? [[String: Any]]
        let id = try #require(items?.first?["id"] as? Int)
        let retractedFrom = try Self.lastID(app)
        #expect(try await app.coordinator("DELETE", "/v1/measurements/\(id)").status == 204)
        let retracted = try Self.events(app, after: retractedFrom)
        #expect(retracted.map(\.type) == ["measurements.corrected"])
        let retraction = (retracted.first?.data["changes"] as? [[String: Any]])?.first
        #expect(retraction?["action"] as? String == "retracted" && retraction?["measurement"] as? Int == id)

        // A release (its lock exists already: no second period.locked), then a coordinator publication.
        let released = try Self.lastID(app)
        _ = try await app.release("literacy", "2026-Q1")
        let release = try Self.events(app, after: released)
        #expect(release.map(\.type) == ["release.published"], "\(release.map(\.type))")
        #expect(
            release.first?.data["period"] as? String == "2026-Q1" && release.first?.data["automatic"] as? Bool == false)
        let fresh = try Self.lastID(app)
        _ = try await app.release("literacy", "2026-Q2")
        #expect(try Self.events(app, after: fresh).map(\.type) == ["release.published", "period.locked"])

        let publishedFrom = try Self.lastID(app)
        let publication = try await app.coordinator(
            "POST", "/v1/publications",
            json: #"{"agenda": "literacy", "period": "2026-Q1", "title": "March board", "audience": "coordinator"}"#)
        #expect(publication.status == 201, "\(publication.text)")
        let published = try Self.events(app, after: publishedFrom)
        #expect(published.map(\.type) == ["publication.published"] && published.first?.partner == nil)
        let data = published.first?.data ?? [:]
        #expect(data["audience"] as? String == "coordinator" && data["title"] as? String == "March board")
        #expect(data["publication"] as? Int == publication.json["id"] as? Int)
        #expect((data["json_sha256"] as? String)?.count == 64 && (data["html_sha256"] as? String)?.count == 64)
    }

    @Test func aFlagOpenedAndClosedWritesItsEventsToItsPartner() async throws {
        let app = try await TestApp.start()
        defer { Task { try await app.stop() } }
        try await app.seedRegistry()
        let indicator = try await app.coordinator(
            "POST", "/v1/indicators",
            json:
                #"{"code": "esl_completed", "agenda": "literacy", "name": "Completed", "value_type": "count", "aggregation": "sum", "period_type": "month"}"#
        )
        #expect(indicator.status == 201)
        let rule = try await app.coordinator(
            "POST", "/v1/rules",
            json:
                #"{"id": "completed-within-enrolled", "agenda": "literacy", "name": "Completed within enrolled", "left": "esl_completed", "operator": "<=", "right": "esl_learners", "action": "warn"}"#
        )
        #expect(rule.status == 201, "\(rule.text)")
        let completed = row(indicator: "esl_completed", value: "60", dimensions: "{}")
        let start = try Self.lastID(app)
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(value: "30"), completed]))
        let opened = try Self.events(app, after: start).filter { $0.type == "flag.opened" }
        #expect(opened.count == 1 && opened.first?.partner == "central-library")
        #expect(
            opened.first?.data["kind"] as? String == "rule"
                && opened.first?.data["rule"] as? String == "completed-within-enrolled")
        #expect(
            opened.first?.data["status"] as? String == "open" && opened.first?.data["period"] as? String == "2026-03")
        let flag = try #require(opened.first?.data["flag"] as? Int)

        // The coordinator confirms it: closed. Reopening it opens it again.
        let confirmedFrom = try Self.lastID(app)
        let confirmed = try await app.coordinator(
            "PATCH", "/v1/flags/\(flag)", json: #"{"status": "confirmed", "note": "a real jump"}"#)
        #expect(confirmed.status == 200, "\(confirmed.text)")
        let closed = try Self.events(app, after: confirmedFrom)
        #expect(closed.map(\.type) == ["flag.closed"] && closed.first?.data["status"] as? String == "confirmed")
        let reopenedFrom = try Self.lastID(app)
        _ = try await app.coordinator("PATCH", "/v1/flags/\(flag)", json: #"{"status": "open"}"#)
        #expect(try Self.events(app, after: reopenedFrom).map(\.type) == ["flag.opened"])

        // Corrected values close it, by the service.
        let fixedFrom = try Self.lastID(app)
        _ = try await app.coordinator("POST", "/v1/measurements", json: batch([row(value: "80")]))
        let fixed = try Self.events(app, after: fixedFrom)
        #expect(fixed.map(\.type).contains("flag.closed"), "\(fixed.map(\.type))")
        #expect(fixed.first { $0.type == "flag.closed" }?.data["status"] as? String == "corrected")
    }
}
