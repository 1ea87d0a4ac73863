import BackboneCore
import Foundation
import HTTPServer
import Logging
import Postgres
import TestSupport
import Testing

@testable import BackboneAPI

@Suite("Hardening: refusals before the body, honest 503s, bounded error lists")
struct HardeningAPITests {
    @Test func aBodyWithoutAKeyOrFromAViewerIsRefusedBeforeItIsRead() async throws {
        let test = try await TestApp.start()
        let anonymous = try RawHTTPClient(port: test.port, timeout: 5)
        try await anonymous.send(
            "POST /v1/measurements HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 33554432\r\n\r\n")
        let unauthorized = try await anonymous.readResponse()
        #expect(unauthorized.status == 401)
        #expect(unauthorized.json["code"] as? String == "unauthorized")

        let viewer = try await test.key(role: "viewer")
        let viewerClient = try RawHTTPClient(port: test.port, timeout: 5)
        try await viewerClient.send(
            "POST /v1/measurements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(viewer)\r\nContent-Length: 33554432\r\n\r\n"
        )
        #expect(try await viewerClient.readResponse().status == 403)
        try await test.stop()
    }

    @Test func anAnonymousFormOverItsRoutesLimitIsRefusedOnItsHead() async throws {
        let test = try await TestApp.start()
        for path in ["/dashboard/sign-in", "/dashboard/sign-out"] {
            // No body follows: an answer within the client's timeout shows the server did not wait for one.
            let client = try RawHTTPClient(port: test.port, timeout: 5)
            try await client.send(
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 33554432\r\n\r\n"
            )
            let refused = try await client.readResponse()
            #expect(refused.status == 413, "\(path): \(refused.text.prefix(300))")
            #expect(refused.json["code"] as? String == "body-too-large")
            #expect((refused.json["detail"] as? String)?.contains("4096 bytes") == true, "\(refused.text)")
            #expect(try await client.waitForClose())
        }
        try await test.stop()
    }

    @Test func aChunkedSignInIsRefusedOnceItPassesTheFormLimit() async throws {
        let test = try await TestApp.start()
        let head =
            "POST /dashboard/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        func chunk(_ text: String) -> String { String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }

        // Under the limit, chunked is read as usual: the form's own answer (an unknown key).
        let small = try RawHTTPClient(port: test.port, timeout: 5)
        try await small.send(head + chunk("key=bbk_") + chunk("not-a-key") + "0\r\n\r\n")
        #expect(try await small.readResponse().status == 401)

        // Past it, refused without the end of the body ever being sent.
        let large = try RawHTTPClient(port: test.port, timeout: 5)
        try await large.send(head + chunk("key=" + String(repeating: "a", count: 3000)))
        try await large.send(chunk(String(repeating: "a", count: 2000)))
        let refused = try await large.readResponse()
        #expect(refused.status == 413, "\(refused.text.prefix(300))")
        #expect(refused.json["code"] as? String == "body-too-large")
        #expect(try await large.waitForClose())
        try await test.stop()
    }

    @Test func everyRouteAnswers503WithRetryAfterWhileTheDatabaseIsAway() async throws {
        let pool = ConnectionPool(
            conninfo: "host=/nonexistent-backbone-socket dbname=none user=none connect_timeout=2", size: 2)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = BackboneApp(pool: pool, logger: logger)
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), router: app.router(),
            problems: app.problems,
            logger: logger)
        let port = try await server.start().port!
        let client = try RawHTTPClient(port: port, timeout: 10)
        #expect(try await client.request("GET", "/healthz").status == 200)
        let ready = try await client.request("GET", "/readyz")
        #expect(ready.status == 503 && ready.header("retry-after") != nil)
        for (method, path, body) in [
            ("GET", "/v1/agendas", nil), ("GET", "/v1/measurements", nil),
            ("POST", "/v1/measurements", Data("{}".utf8)), ("GET", "/v1/reports/scorecard?agenda=x", nil),
        ] as [(String, String, Data?)] {
            let response = try await client.request(
                method, path, headers: ["Authorization": "Bearer bbk_whatever"], body: body)
            #expect(response.status == 503, "\(method) \(path): \(response.status) \(response.text)")
            #expect(response.header("retry-after") != nil)
            #expect(response.json["code"] as? String == "database-unavailable")
        }
        try await server.shutdown()
    }

    @Test func aClosedPoolDuringShutdownIs503NotAnInvalidBody() async throws {
        let test = try await TestApp.start()
        try await test.seedRegistry()
        try await test.pool.close()
        let write = try await test.request(
            "POST", "/v1/agendas", key: test.coordinator, json: #"{"id": "x", "name": "X"}"#)
        let read = try await test.request("GET", "/v1/indicators", key: test.coordinator)
        for response in [write, read] {
            #expect(response.status == 503)
            #expect(response.header("retry-after") == "5")
            #expect(response.json["code"] as? String == "database-unavailable")
            #expect((response.json["detail"] as? String)?.contains("shutting down") == true, "\(response.text)")
        }
        test.app.stop()
        try await test.server.shutdown()
    }

    @Test func aBatchOfManyBadRowsListsTheFirst200AndCountsAll() async throws {
        let test = try await TestApp.start()
        try await test.seedRegistry()
        let rows = (0..<5000).map { _ in row(value: #""lots""#) }
        let response = try await test.request("POST", "/v1/measurements", key: test.coordinator, json: batch(rows))
        #expect(response.status == 422)
        #expect(test.fieldErrorsCount(response) == 200)
        #expect((response.json["error_count"] as? Int ?? 0) >= 5000)
        #expect(response.json["errors_truncated"] as? Bool == true)
        #expect(response.body.count < 60_000)
        let partial = try await test.request(
            "POST", "/v1/measurements?mode=partial", key: test.coordinator, json: batch(rows))
        #expect(partial.status == 200)
        #expect((partial.json["error_count"] as? Int ?? 0) >= 5000)
        #expect((partial.json["errors"] as? [Any])?.count == 200)
        try await test.stop()
    }

    @Test func aCachedRegistryReadAnsweredAtOnceSeesChangesAndRevocations() async throws {
        let test = try await TestApp.start()
        try await test.waitUntilListening()
        try await test.seedRegistry()
        let viewer = try await test.key(role: "viewer")
        // The seed's own change notices arrive asynchronously and may empty the cache after a
        // first read filled it: read until a read has been cached (bounded).
        var cached = try await test.request("GET", "/v1/indicators/esl_learners", key: viewer)
        for _ in 0..<100 where test.app.registryCache.count == 0 {
            try await Task.sleep(for: .milliseconds(20))
            cached = try await test.request("GET", "/v1/indicators/esl_learners", key: viewer)
        }
        #expect(cached.status == 200 && cached.json["name"] as? String == "ESL learners enrolled")
        #expect(test.app.registryCache.count >= 1)
        let renamed = try await test.coordinator(
            "PATCH", "/v1/indicators/esl_learners", json: #"{"name": "Adults learning English"}"#)
        #expect(renamed.status == 200)
        let changed = try await test.request("GET", "/v1/indicators/esl_learners", key: viewer)
        #expect(changed.json["name"] as? String == "Adults learning English")
        // A cached record answers a cached key only; a revoked key is refused at once.
        let keys = try await test.coordinator("GET", "/v1/keys")
        let items = try #require(keys.json["items"] as? [[String: Any]])
        let id = try #require(items.first { $0["role"] as? String == "viewer" }?["id"] as? String)
        #expect(try await test.coordinator("DELETE", "/v1/keys/\(id)").status == 200)
        #expect(try await test.request("GET", "/v1/indicators/esl_learners", key: viewer).status == 401)
        try await test.stop()
    }

    @Test func aKeyRevokedWhileItLoadsIsNotCachedAsLive() async throws {
        let test = try await TestApp.start()
        try await test.waitUntilListening()
        let cache = test.app.keyCache
        cache.removeAll()
        let key = try await APIKeys.load(test)
        // The load sees the key live; a revocation empties the cache before the insert.
        let loaded = try await cache.value(for: "secret") { () async throws -> APIKey? in
            cache.removeAll()
            return key
        }
        #expect(loaded != nil)
        #expect(cache.count == 0)
        // Without a change in between, the value is cached.
        _ = cache.value(for: "secret") { key }
        #expect(cache.count == 1)
        try await test.stop()
    }
}

extension TestApp {
    func fieldErrorsCount(_ response: RawHTTPClient.Response) -> Int {
        (response.json["errors"] as? [Any])?.count ?? -1
    }
}

extension APIKeys {
    /// The test coordinator's key record.
    static func load(_ test: TestApp) async throws -> APIKey {
        let secret = test.coordinator
        return try await test.pool.withConnection { try APIKeys.authenticate($0, secret: secret)! }
    }
}
