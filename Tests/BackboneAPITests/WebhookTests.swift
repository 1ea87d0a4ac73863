import BackboneCore
import Foundation
import JSON
import Postgres
import TestSupport
import Testing

/// `/v1/webhooks`: secrets shown once, who subscribes to what, safe URLs, deactivation,
/// ping, the delivery log and redelivery (the sending itself: BackboneCLITests).
@Suite("Webhook endpoints")
struct WebhookTests {
    static let allowed = WebhookSettings(allowPrivateNetworks: true)

    @Test func theSecretIsShownOnceAndEachKeySeesOnlyItsOwnEndpoints() async throws {
        let app = try await TestApp.start(webhooks: Self.allowed)
        try await app.seedRegistry()
        let created = try await app.coordinator(
            "POST", "/v1/webhooks",
            json: #"{"url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "all of it"}"#)
        #expect(created.status == 201, "\(created.text)")
        let secret = try #require(created.json["secret"] as? String)
        #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
        let id = try #require(created.json["id"] as? Int)
        let read = try await app.coordinator("GET", "/v1/webhooks/\(id)")
        #expect(read.status == 200 && read.json["secret"] == nil && read.json["events"] as? [String] == ["*"])
        let listed = try await app.coordinator("GET", "/v1/webhooks").json["items"] as? [[String: Any]] ?? []
        #expect(listed.count == 1 && listed.allSatisfy { $0["secret"] == nil })

        let partnerA = try await app.key(role: "partner", partner: "central-library")
        let partnerB = try await app.key(role: "partner", partner: "literacy-now")
        let own = try await app.request(
            "POST", "/v1/webhooks", key: partnerA,
            json: #"{"url": "http://127.0.0.1:9/a", "events": ["measurements.submitted", "reminder.due"]}"#)
        #expect(own.status == 201 && own.json["partner"] as? String == "central-library", "\(own.text)")
        let ownID = try #require(own.json["id"] as? Int)
        #expect(try await app.request("GET", "/v1/webhooks/\(ownID)", key: partnerB).status == 404)
        #expect(try await app.request("DELETE", "/v1/webhooks/\(ownID)", key: partnerB).status == 404)
        #expect(try await app.coordinator("GET", "/v1/webhooks/\(ownID)").status == 404)
        let bList = try await app.request("GET", "/v1/webhooks", key: partnerB).json["items"] as? [[String: Any]]
        #expect(bList?.isEmpty == true)
        let viewer = try await app.key(role: "viewer")
        #expect(
            try await app.request(
                "POST", "/v1/webhooks", key: viewer, json: #"{"url": "http://127.0.0.1:9/v", "events": ["*"]}"#
            ).status == 403)
        try await app.stop()
    }

    @Test func eventTypesAreCheckedAndAPartnerTakesOnlyItsOwnKinds() async throws {
        let app = try await TestApp.start(webhooks: Self.allowed)
        try await app.seedRegistry()
        let unknown = try await app.coordinator(
            "POST", "/v1/webhooks", json: #"{"url": "http://127.0.0.1:9/x", "events": ["measurement.submited"]}"#)
        #expect(unknown.status == 422 && unknown.fieldErrors.map(\.field) == ["events"], "\(unknown.text)")
        let partner = try await app.key(role: "partner", partner: "central-library")
        let coordinatorsOnly = try await app.request(
            "POST", "/v1/webhooks", key: partner,
            json: #"{"url": "http://127.0.0.1:9/x", "events": ["period.locked", "flag.opened"]}"#)
        #expect(coordinatorsOnly.status == 422 && coordinatorsOnly.fieldErrors.map(\.field) == ["events"])
        let cases: [(String, [String])] = [
            (#"{"events": ["*"]}"#, ["url"]),
            (#"{"url": "http://127.0.0.1:9/x"}"#, ["events"]),
            (#"{"url": "http://127.0.0.1:9/x", "events": []}"#, ["events"]),
            (#"{"url": "http://127.0.0.1:9/x", "events": [1]}"#, ["events"]),
            (#"{"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "mine"}"#, ["secret"]),
            (#"{"url": "ftp://127.0.0.1/x", "events": ["*"]}"#, ["url"]),
        ]
        for (body, fields) in cases {
            let response = try await app.coordinator("POST", "/v1/webhooks", json: body)
            #expect(response.status == 422 && response.fieldErrors.map(\.field) == fields, "\(body): \(response.text)")
        }
        let count = try await app.pool.withConnection {
            try $0.query("SELECT count(*) FROM webhook_endpoints")[0].decode(Int.self, at: 0)
        }
        #expect(count == 0)
        try await app.stop()
    }

    @Test func loopbackPrivateAndLinkLocalURLsAreRefusedByDefault() async throws {
        let app = try await TestApp.start()
        for url in [
            "http://127.0.0.1/hook", "http://10.0.0.8/hook", "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/hook", "http://localhost/hook", "http://100.64.1.1/", "http://[fd00::5]/",
        ] {
            let response = try await app.coordinator(
                "POST", "/v1/webhooks", json: #"{"url": "\#(url)", "events": ["*"]}"#)
            #expect(response.status == 422 && response.fieldErrors.map(\.field) == ["url"], "\(url): \(response.text)")
        }
        let publicURL = try await app.coordinator(
            "POST", "/v1/webhooks", json: #"{"url": "https://198.51.100.7/hook", "events": ["*"]}"#)
        #expect(publicURL.status == 201, "\(publicURL.text)")
        try await app.stop()
    }

    @Test func deletingCancelsPendingDeliveriesAndPingAndRedeliverWork() async throws {
        let app = try await TestApp.start(webhooks: Self.allowed)
        let created = try await app.coordinator(
            "POST", "/v1/webhooks", json: #"{"url": "http://127.0.0.1:9/hook", "events": ["period.locked"]}"#)
        let id = try #require(created.json["id"] as? Int)
        let ping = try await app.coordinator("POST", "/v1/webhooks/\(id)/ping")
        #expect(ping.status == 202 && ping.json["type"] as? String == "ping", "\(ping.text)")
        let event = try #require(ping.json["event"] as? Int)
        #expect(ping.json["webhook_id"] as? String == "msg_\(event)")
        try await app.pool.withConnection { _ = try WebhookQueue.fanOut($0) }
        let log = try await app.coordinator("GET", "/v1/webhooks/\(id)/deliveries")
        let deliveries = log.json["items"] as? [[String: Any]] ?? []
        try #require(deliveries.count == 1, "\(log.text)")
        let delivery = try #require(deliveries[0]["id"] as? Int)
        #expect(deliveries[0]["status"] as? String == "pending")
        #expect((deliveries[0]["event"] as? [String: Any])?["type"] as? String == "ping")
        #expect(deliveries[0]["next_attempt_at"] is String && deliveries[0]["attempts"] as? [Any] != nil)
        let redelivered = try await app.coordinator("POST", "/v1/webhooks/\(id)/deliveries/\(delivery)/redeliver")
        #expect(redelivered.status == 200 && redelivered.json["status"] as? String == "pending", "\(redelivered.text)")
        #expect(try await app.coordinator("POST", "/v1/webhooks/\(id)/deliveries/999999/redeliver").status == 404)

        let deleted = try await app.coordinator("DELETE", "/v1/webhooks/\(id)")
        #expect(deleted.status == 200 && deleted.json["active"] as? Bool == false, "\(deleted.text)")
        #expect(deleted.json["disabled_reason"] is String)
        let after = try await app.coordinator("GET", "/v1/webhooks/\(id)/deliveries")
        #expect((after.json["items"] as? [[String: Any]])?.first?["status"] as? String == "cancelled")
        #expect(try await app.coordinator("POST", "/v1/webhooks/\(id)/ping").status == 409)
        #expect(
            try await app.coordinator("POST", "/v1/webhooks/\(id)/deliveries/\(delivery)/redeliver").status == 409)
        try await app.stop()
    }

    @Test func fanOutFollowsWhoMaySeeAnEvent() async throws {
        let app = try await TestApp.start(webhooks: Self.allowed)
        try await app.seedRegistry()
        let partnerA = try await app.key(role: "partner", partner: "central-library")
        func endpoint(_ key: String, _ events: String) async throws -> Int {
            let response = try await app.request(
                "POST", "/v1/webhooks", key: key, json: #"{"url": "http://127.0.0.1:9/h", "events": \#(events)}"#)
            return try #require(response.json["id"] as? Int, "\(response.text)")
        }
        let coordinatorAll = try await endpoint(app.coordinator, #"["*"]"#)
        let coordinatorLocks = try await endpoint(app.coordinator, #"["period.locked"]"#)
        let partnerAll = try await endpoint(partnerA, #"["*"]"#)
        let events: [(EventType, String?, String)] = [
            (.measurementsSubmitted, "central-library", "{}"),
            (.measurementsSubmitted, "literacy-now", "{}"),
            (.periodLocked, nil, "{}"),
            (.publicationPublished, "central-library", #"{"audience": "coordinator"}"#),
            (.flagOpened, "central-library", #"{"audience": "coordinator"}"#),
        ]
        let ids = try await app.pool.transaction { connection in
            try events.map { type, partner, data in
                try Outbox.append(
                    connection, type, agenda: nil, partner: partner,
                    data: try JSONValue.parse(Data(data.utf8)))
            }
        }
        let fanned = try await app.pool.withConnection { try WebhookQueue.fanOut($0) }
        #expect(fanned == events.count)
        let pairs = try await app.pool.withConnection { connection in
            try connection.query("SELECT endpoint_id, event_id FROM webhook_deliveries ORDER BY 1, 2").map {
                [try $0.decode(Int.self, at: 0), try $0.decode(Int.self, at: 1)]
            }
        }
        let expected =
            ids.map { [coordinatorAll, $0] } + [[coordinatorLocks, ids[2]]] + [[partnerAll, ids[0]]]
        #expect(pairs == expected.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) })
        #expect(try await app.pool.withConnection { try WebhookQueue.fanOut($0) } == 0)
        try await app.stop()
    }
}
