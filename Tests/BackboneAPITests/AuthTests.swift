import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Keys and roles")
struct AuthTests {
    static let protectedEndpoints: [(String, String)] = [
        ("GET", "/v1/agendas"), ("POST", "/v1/agendas"), ("GET", "/v1/agendas/literacy"),
        ("PATCH", "/v1/agendas/literacy"),
        ("DELETE", "/v1/agendas/literacy"), ("GET", "/v1/indicators"), ("POST", "/v1/indicators"),
        ("GET", "/v1/indicators/esl_learners"), ("GET", "/v1/partners"), ("GET", "/v1/neighborhoods"),
        ("GET", "/v1/commitments"), ("POST", "/v1/commitments"), ("GET", "/v1/keys"), ("POST", "/v1/keys"),
        ("DELETE", "/v1/keys/key_x"), ("POST", "/v1/measurements"), ("GET", "/v1/measurements"),
        ("GET", "/v1/measurements/1"), ("DELETE", "/v1/measurements/1"), ("GET", "/v1/measurements/1/history"),
        ("GET", "/v1/locks"), ("POST", "/v1/locks"), ("DELETE", "/v1/locks/1"),
    ]

    @Test func everyEndpointWithoutAKeyIs401() async throws {
        let app = try await TestApp.start()
        for (method, path) in Self.protectedEndpoints {
            let response = try await app.request(method, path, json: method == "GET" || method == "DELETE" ? nil : "{}")
            #expect(response.status == 401, "\(method) \(path)")
            #expect(response.isProblem)
            #expect(response.header("www-authenticate")?.hasPrefix("Bearer") == true)
            let wrongKey = try await app.request(method, path, key: "bbk_not-a-key")
            #expect(wrongKey.status == 401, "\(method) \(path) with an unknown key")
        }
        try await app.stop()
    }

    @Test func revokedKeyStopsWorkingAtOnce() async throws {
        let app = try await TestApp.start()
        let created = try await app.coordinator("POST", "/v1/keys", json: #"{"role": "viewer", "name": "dashboard"}"#)
        let secret = try #require(created.json["secret"] as? String)
        let id = try #require(created.json["id"] as? String)
        #expect(try await app.request("GET", "/v1/agendas", key: secret).status == 200)
        let revoked = try await app.coordinator("DELETE", "/v1/keys/\(id)")
        #expect(revoked.status == 200)
        #expect(revoked.json["revoked_at"] is String)
        #expect(try await app.request("GET", "/v1/agendas", key: secret).status == 401)
        // Listing keys never shows a secret.
        let listed = try await app.coordinator("GET", "/v1/keys")
        #expect(!listed.text.contains(secret))
        #expect(!listed.text.contains("secret"))
        try await app.stop()
    }

    @Test func aKeyRevokedByAnotherProcessStopsWorkingWithinASecond() async throws {
        let app = try await TestApp.start()
        let viewer = try await app.key(role: "viewer")
        // Warm the cache, then revoke behind this server's back, as another server would.
        #expect(try await app.request("GET", "/v1/agendas", key: viewer).status == 200)
        #expect(try await app.request("GET", "/v1/agendas", key: viewer).status == 200)
        try Connection(app.conninfo).query("UPDATE api_keys SET revoked_at = now() WHERE role = 'viewer'")
        var status = 200
        let deadline = ContinuousClock.now + .seconds(3)
        while status == 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            status = try await app.request("GET", "/v1/agendas", key: viewer).status
        }
        #expect(status == 401)
        try await app.stop()
    }

    @Test func registryReadsSeeChangesMadeByAnotherProcess() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        #expect(try await app.coordinator("GET", "/v1/partners/p3").status == 404)
        #expect(try await app.coordinator("GET", "/v1/partners/literacy-now").json["name"] as? String == "Literacy Now")
        try Connection(app.conninfo).query("UPDATE partners SET name = 'Literacy Now!' WHERE id = 'literacy-now'")
        var name = ""
        let deadline = ContinuousClock.now + .seconds(3)
        while name != "Literacy Now!", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            name = try await app.coordinator("GET", "/v1/partners/literacy-now").json["name"] as? String ?? ""
        }
        #expect(name == "Literacy Now!")
        // A write through this server is visible to its next read at once.
        _ = try await app.coordinator("PATCH", "/v1/partners/literacy-now", json: #"{"name": "LN"}"#)
        #expect(try await app.coordinator("GET", "/v1/partners/literacy-now").json["name"] as? String == "LN")
        try await app.stop()
    }

    @Test func viewerReadsTheRegistryButNoRawData() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let viewer = try await app.key(role: "viewer")
        #expect(try await app.request("GET", "/v1/indicators", key: viewer).status == 200)
        #expect(try await app.request("GET", "/v1/neighborhoods/northside", key: viewer).status == 200)
        #expect(try await app.request("GET", "/v1/measurements", key: viewer).status == 403)
        let submit = try await app.request("POST", "/v1/measurements", key: viewer, json: row())
        #expect(submit.status == 403 && submit.isProblem)
        #expect(
            try await app.request("POST", "/v1/agendas", key: viewer, json: #"{"id": "x", "name": "X"}"#).status == 403)
        #expect(try await app.request("GET", "/v1/keys", key: viewer).status == 403)
        #expect(try app.count("measurements") == 0)
        try await app.stop()
    }

    @Test func partnerSubmitsOnlyForItselfAndSeesOnlyItsOwnRows() async throws {
        let app = try await TestApp.start()
        try await app.seedRegistry()
        let library = try await app.key(role: "partner", partner: "central-library")
        let nonprofit = try await app.key(role: "partner", partner: "literacy-now")

        // The partner comes from the key.
        let own = try await app.request(
            "POST", "/v1/measurements", key: library,
            json: row().replacingOccurrences(of: #""partner": "central-library", "#, with: ""))
        #expect(own.status == 200, "\(own.text)")
        // Naming another partner is refused, and nothing is stored.
        let other = try await app.request("POST", "/v1/measurements", key: nonprofit, json: row(period: "2026-04"))
        #expect(other.status == 403 && other.isProblem)
        #expect(try app.count("measurements") == 1)

        let listed = try await app.request("GET", "/v1/measurements", key: library)
        let items = try #require(listed.json["items"] as? [[String: Any]])
        let id = try #require(items.first?["id"] as? Int)
        #expect(try await app.request("GET", "/v1/measurements/\(id)", key: library).status == 200)
        // Another partner's measurement looks like it does not exist.
        #expect(try await app.request("GET", "/v1/measurements/\(id)", key: nonprofit).status == 404)
        #expect(try await app.request("GET", "/v1/measurements/\(id)/history", key: nonprofit).status == 404)
        #expect(try await app.request("DELETE", "/v1/measurements/\(id)", key: nonprofit).status == 404)
        let theirs = try await app.request("GET", "/v1/measurements", key: nonprofit)
        #expect((theirs.json["items"] as? [Any])?.isEmpty == true)
        #expect(try await app.request("GET", "/v1/measurements?partner=central-library", key: nonprofit).status == 403)
        // Partners read the registry but do not change it.
        #expect(try await app.request("GET", "/v1/indicators/esl_learners", key: library).status == 200)
        #expect(
            try await app.request("PATCH", "/v1/indicators/esl_learners", key: library, json: #"{"name": "x"}"#).status
                == 403)
        #expect(try app.count("measurements") == 1)
        try await app.stop()
    }
}
