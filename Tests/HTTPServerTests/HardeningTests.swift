import Foundation
import HTTPServer
import Logging
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// A server whose limits are small enough to reach quickly, with a key check on heads.
struct HardenedServer {
    let server: HTTPServer
    let port: Int
    let handled: Counter

    static let openAPISized = ByteBuffer(repeating: UInt8(ascii: "y"), count: 200 * 1024)

    static func start(configure: (inout HTTPServerConfiguration) -> Void = { _ in }) async throws -> HardenedServer {
        var router = Router<Void>()
        let handled = Counter()
        @Sendable func checkKey(_ request: HTTPRequest) throws {
            guard request.headers.first(name: "authorization") == "Bearer good" else {
                throw Problem(status: .unauthorized, code: "unauthorized", title: "Unauthorized")
            }
        }
        let keyed = ContextFinder<Void>(immediately: { try checkKey($0) }, eventually: { try checkKey($0) })
        router.get("/healthz") { _ in .text("ok") }
        router.get("/big") { _ in
            handled.increment()
            return HTTPResponse(contentType: "application/yaml", body: openAPISized.readableBytesView)
        }
        router.add(.POST, "/upload", context: keyed) { request, _ in
            handled.increment()
            return .text("\(request.body.readableBytes)")
        }
        router.add(.POST, "/invalid", context: keyed) { _, _ in
            throw Problem.invalid(
                (0..<5000).map {
                    Problem.FieldError(row: $0, field: "value", code: "not-numeric", message: "must be a number")
                })
        }
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, maxBodySize: 64 * 1024 * 1024)
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = HTTPServer(configuration: configuration, router: router, logger: logger)
        let address = try await server.start()
        return HardenedServer(server: server, port: address.port!, handled: handled)
    }

    func client(timeout: Double = 10) throws -> RawHTTPClient {
        try RawHTTPClient(port: port, timeout: timeout)
    }

    /// Seconds a fresh `GET /healthz` takes.
    func healthLatency() async throws -> Double {
        let started = Date()
        let response = try await client(timeout: 5).request("GET", "/healthz")
        #expect(response.status == 200)
        return Date().timeIntervalSince(started)
    }
}

@Suite("Hardening: one client cannot take the server down")
struct HardeningTests {
    @Test func pipeliningWithoutReadingStopsTheServerFromQueueingResponses() async throws {
        let test = try await HardenedServer.start()
        let attacker = try test.client(timeout: 20)
        var requests = Data()
        for _ in 0..<2000 { requests.append(RawHTTPClient.requestBytes("GET", "/big")) }
        try await attacker.send(requests)
        try await Task.sleep(for: .seconds(1))
        // 2,000 answers of 200 KiB would be 400 MB; only what the socket buffers hold is made.
        let handledWhileNotReading = test.handled.value
        #expect(handledWhileNotReading < 200, "\(handledWhileNotReading) responses made for a client that reads none")
        // Generous for a debug build beside the other suites; a server stuck behind the attacker never answers.
        #expect(try await test.healthLatency() < 2)
        // Once the client reads, every response arrives, in order.
        for _ in 0..<2000 {
            let response = try await attacker.readResponse()
            #expect(response.status == 200)
            if response.status != 200 { break }
        }
        #expect(test.handled.value == 2000)
        try await test.server.shutdown()
    }

    @Test func aBodyWithoutAKeyIsRefusedBeforeItIsSent() async throws {
        let test = try await HardenedServer.start()
        let client = try test.client(timeout: 5)
        // Only the head: the answer must come without a single body byte.
        try await client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 401)
        #expect(response.header("connection") == "close")
        #expect(try await client.waitForClose())
        #expect(test.handled.value == 0)
        try await test.server.shutdown()
    }

    @Test func unknownRoutesAndMethodsAreRefusedBeforeTheBody() async throws {
        let test = try await HardenedServer.start()
        let missing = try test.client(timeout: 5)
        try await missing.send(
            "POST /nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 1000000\r\n\r\n")
        #expect(try await missing.readResponse().status == 404)
        let wrongMethod = try test.client(timeout: 5)
        try await wrongMethod.send(
            "PUT /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 1000000\r\n\r\n")
        let response = try await wrongMethod.readResponse()
        #expect(response.status == 405)
        #expect(response.header("allow") == "POST")
        try await test.server.shutdown()
    }

    @Test func expectContinueIsAnsweredOnlyForAnAcceptedHead() async throws {
        let test = try await HardenedServer.start()
        let accepted = try test.client(timeout: 5)
        try await accepted.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        )
        #expect(try await accepted.readResponse().status == 100)
        try await accepted.send("hello")
        let done = try await accepted.readResponse()
        #expect(done.status == 200 && done.text == "5")

        let refused = try test.client(timeout: 5)
        try await refused.send("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(try await refused.readResponse().status == 401)
        #expect(try await refused.waitForClose())
        try await test.server.shutdown()
    }

    @Test func tooLargeADeclaredBodyIs413BeforeItIsSent() async throws {
        let test = try await HardenedServer.start { $0.maxBodySize = 1024 }
        let client = try test.client(timeout: 5)
        try await client.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 4096\r\n\r\n")
        #expect(try await client.readResponse().status == 413)
        try await test.server.shutdown()
    }

    @Test func bodiesInFlightAcrossTheServerAreBounded() async throws {
        let test = try await HardenedServer.start {
            $0.maxBodySize = 1000
            $0.maxBodyBytesInFlight = 2000
        }
        let head = "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 1000\r\n\r\n"
        let first = try test.client(timeout: 5)
        let second = try test.client(timeout: 5)
        try await first.send(head + "x")
        try await second.send(head + "x")
        try await Task.sleep(for: .milliseconds(300))
        let third = try test.client(timeout: 5)
        try await third.send(head)
        let refused = try await third.readResponse()
        #expect(refused.status == 503)
        #expect(refused.header("retry-after") != nil)
        #expect(refused.json["code"] as? String == "server-busy")
        // When one finishes, its bytes return to the budget.
        try await first.send(String(repeating: "x", count: 999))
        #expect(try await first.readResponse().text == "1000")
        let fourth = try test.client(timeout: 5)
        #expect(
            try await fourth.request(
                "POST", "/upload", headers: ["Authorization": "Bearer good"], body: Data(count: 1000)
            ).status == 200)
        try await test.server.shutdown()
    }

    @Test func aLargeBodyIsCollectedInLinearTime() async throws {
        let test = try await HardenedServer.start()
        let body = Data(repeating: 65, count: 32 * 1024 * 1024)
        let started = Date()
        let response = try await test.client(timeout: 30).request(
            "POST", "/upload", headers: ["Authorization": "Bearer good"], body: body)
        let elapsed = Date().timeIntervalSince(started)
        #expect(response.status == 200 && response.text == "\(body.count)")
        // Quadratic collection took minutes; 8 s leaves room for a loaded two-core machine.
        #expect(elapsed < 8, "32 MiB took \(elapsed) s")
        try await test.server.shutdown()
    }

    @Test func aHeadSentAByteAtATimeGets408AtItsDeadline() async throws {
        let test = try await HardenedServer.start { $0.headTimeout = .seconds(1) }
        let client = try test.client(timeout: 5)
        let started = Date()
        var answered: RawHTTPClient.Response?
        for byte in "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            do { try await client.send(String(byte)) } catch { break }
            try await Task.sleep(for: .milliseconds(200))
            if Date().timeIntervalSince(started) > 1.2 { break }
        }
        answered = try await client.readResponse()
        #expect(answered?.status == 408)
        #expect(answered?.header("content-type") == "application/problem+json")
        #expect(answered?.json["code"] as? String == "request-timeout")
        // The deadline is 1 s; without it the head would trickle on for 8 s.
        #expect(Date().timeIntervalSince(started) < 6)
        try await test.server.shutdown()
    }

    @Test func aHalfSentHeadGets408NotASilentClose() async throws {
        let test = try await HardenedServer.start { $0.idleTimeout = .seconds(1) }
        let client = try test.client(timeout: 5)
        try await client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 408)
        try await test.server.shutdown()
    }

    @Test func aBodySlowerThanTheMinimumRateGets408() async throws {
        let test = try await HardenedServer.start {
            $0.minBodyBytesPerSecond = 100
            $0.bodyRateWindow = .seconds(1)
        }
        let client = try test.client(timeout: 5)
        try await client.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 1000\r\n\r\n")
        let started = Date()
        for _ in 0..<10 {
            do { try await client.send("x") } catch { break }
            try await Task.sleep(for: .milliseconds(250))
            if Date().timeIntervalSince(started) > 1.5 { break }
        }
        let response = try await client.readResponse()
        #expect(response.status == 408)
        #expect(test.handled.value == 0)
        try await test.server.shutdown()
    }

    @Test func aProblemListsAtMost200ErrorsAndCountsTheRest() async throws {
        let test = try await HardenedServer.start()
        let response = try await test.client().request(
            "POST", "/invalid", headers: ["Authorization": "Bearer good"], body: Data("{}".utf8))
        #expect(response.status == 422)
        #expect((response.json["errors"] as? [Any])?.count == 200)
        #expect(response.json["error_count"] as? Int == 5000)
        #expect(response.json["errors_truncated"] as? Bool == true)
        #expect(response.body.count < 40_000)
        try await test.server.shutdown()
    }
}
