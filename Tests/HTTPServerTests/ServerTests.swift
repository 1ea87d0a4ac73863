import Foundation
import HTTPServer
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import Testing

/// A server on a real socket with a few routes that exercise the edges.
struct TestServer {
    let server: HTTPServer
    let port: Int
    /// Counts requests that reached the slow handler, so tests can wait for one to be in flight.
    let slowStarted: Counter
    /// Counts `/wait` handlers that started, and those that were cancelled.
    let waits: Counter
    let cancelledWaits: Counter

    static func start(
        maxBodySize: Int = 1024, idleTimeout: TimeAmount = .seconds(10), requestBudget: Duration = .seconds(60),
        shutdownGrace: TimeAmount = .seconds(10)
    ) async throws -> TestServer {
        var router = Router<Void>()
        let slowStarted = Counter()
        let waits = Counter()
        let cancelledWaits = Counter()
        router.get("/stubborn") { _ in
            usleep(2_000_000)  // ignores cancellation
            return .text("too late")
        }
        router.get("/wait") { _ in
            waits.increment()
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                cancelledWaits.increment()
                throw error
            }
            return .text("waited")
        }
        router.get("/hello") { _ in .text("hello") }
        router.get("/echo/{word}") { request in .text(request.parameter("word")) }
        router.post("/echo") { request in
            HTTPResponse(contentType: "application/octet-stream", body: request.body.readableBytesView)
        }
        router.get("/slow") { _ in
            slowStarted.increment()
            try await Task.sleep(for: .milliseconds(800))
            return .text("finally")
        }
        router.get("/fail") { _ in throw CancellationError() }
        router.get("/where-at-once") { _ in
            .text(MultiThreadedEventLoopGroup.currentEventLoop == nil ? "off the loop" : "on an event loop")
        }
        router.get("/where-after-a-wait") { _ in
            try await Task.sleep(for: .milliseconds(5))
            return .text(MultiThreadedEventLoopGroup.currentEventLoop == nil ? "off the loop" : "on an event loop")
        }
        router.add(
            .GET, "/maybe/{word}", context: .none,
            immediate: { request, _ in request.parameter("word") == "now" ? .text("at once") : nil },
            { _, _ in .text("in a task") }
        )
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, maxBodySize: maxBodySize, idleTimeout: idleTimeout,
                requestBudget: requestBudget,
                shutdownGrace: shutdownGrace),
            router: router, logger: Logger(label: "test"))
        let address = try await server.start()
        return TestServer(
            server: server, port: address.port!, slowStarted: slowStarted, waits: waits, cancelledWaits: cancelledWaits)
    }

    func client(timeout: Double = 10) throws -> RawHTTPClient {
        try RawHTTPClient(port: port, timeout: timeout)
    }
}

@Suite("HTTP server on a real socket")
struct ServerTests {
    @Test func answersAndKeepsTheConnectionAlive() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        let first = try await client.request("GET", "/hello")
        let second = try await client.request("GET", "/echo/northside")
        #expect(first.status == 200 && first.text == "hello")
        #expect(second.status == 200 && second.text == "northside")
        try await test.server.shutdown()
    }

    @Test func anImmediateHandlerAnswersOrLeavesTheRequestToTheTask() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        let now = try await client.request("GET", "/maybe/now")
        #expect(now.status == 200 && now.text == "at once")
        #expect(now.header("x-request-id") != nil)
        let later = try await client.request("GET", "/maybe/later")
        #expect(later.status == 200 && later.text == "in a task")
        // The route's contract holds on the immediate path too.
        let unknown = try await client.request("GET", "/maybe/now?colour=red")
        #expect(unknown.status == 400)
        #expect(unknown.json["code"] as? String == "unknown-parameter")
        let again = try await client.request("GET", "/maybe/now")
        #expect(again.status == 200 && again.text == "at once")
        try await test.server.shutdown()
    }

    /// What a handler computes (a submission's parsing, a report after its query) must not
    /// hold the other connections of the event loop that read its request.
    @Test func aHandlerRunsOffTheEventLoop() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        for path in ["/where-at-once", "/where-after-a-wait"] {
            for _ in 0..<5 {
                let response = try await client.request("GET", path)
                #expect(response.status == 200 && response.text == "off the loop")
            }
        }
        try await test.server.shutdown()
    }

    @Test func bodyOverTheLimitIs413AndTheConnectionClosesCleanly() async throws {
        let test = try await TestServer.start(maxBodySize: 1024)
        let client = try test.client()
        let response = try await client.request("POST", "/echo", body: Data(repeating: 65, count: 4096))
        #expect(response.status == 413)
        #expect(response.header("content-type") == "application/problem+json")
        #expect(response.json["code"] as? String == "body-too-large")
        #expect(response.header("connection") == "close")
        #expect(try await client.waitForClose())
        // The server itself is fine: a new connection gets an answer.
        let again = try await test.client().request("POST", "/echo", body: Data("small".utf8))
        #expect(again.status == 200 && again.text == "small")
        try await test.server.shutdown()
    }

    @Test func chunkedBodyOverTheLimitIsAlso413() async throws {
        let test = try await TestServer.start(maxBodySize: 1024)
        let client = try test.client()
        let chunk = String(repeating: "B", count: 800)
        let hex = String(chunk.utf8.count, radix: 16)
        try await client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(hex)\r\n\(chunk)\r\n\(hex)\r\n\(chunk)\r\n0\r\n\r\n"
        )
        let response = try await client.readResponse()
        #expect(response.status == 413)
        #expect(try await client.waitForClose())
        try await test.server.shutdown()
    }

    @Test func garbageRequestLineIs400ProblemJSON() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        try await client.send("THIS IS NOT HTTP\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 400)
        #expect(response.header("content-type") == "application/problem+json")
        #expect(response.json["code"] as? String == "malformed-request")
        #expect(try await client.waitForClose())
        try await test.server.shutdown()
    }

    @Test func pipelinedRequestsGetResponsesInOrder() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        var bytes = RawHTTPClient.requestBytes("GET", "/slow")
        bytes.append(RawHTTPClient.requestBytes("GET", "/echo/second"))
        bytes.append(RawHTTPClient.requestBytes("GET", "/echo/third"))
        try await client.send(bytes)
        let responses = try await [client.readResponse(), client.readResponse(), client.readResponse()]
        #expect(responses.map(\.text) == ["finally", "second", "third"])
        try await test.server.shutdown()
    }

    @Test func unknownPathIs404ProblemJSON() async throws {
        let test = try await TestServer.start()
        let response = try await test.client().request("GET", "/nowhere")
        #expect(response.status == 404)
        #expect(response.header("content-type") == "application/problem+json")
        #expect(response.json["status"] as? Int == 404)
        #expect(response.json["type"] as? String == "urn:backbone:problem:not-found")
        try await test.server.shutdown()
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        let test = try await TestServer.start()
        let response = try await test.client().request("DELETE", "/echo")
        #expect(response.status == 405)
        #expect(response.header("allow") == "POST")
        #expect(response.header("content-type") == "application/problem+json")
        try await test.server.shutdown()
    }

    @Test func unexpectedHandlerErrorIs500WithTheRequestID() async throws {
        let test = try await TestServer.start()
        let response = try await test.client().request("GET", "/fail", headers: ["X-Request-Id": "trace-123"])
        #expect(response.status == 500)
        #expect(response.header("x-request-id") == "trace-123")
        #expect((response.json["detail"] as? String)?.contains("trace-123") == true)
        try await test.server.shutdown()
    }

    @Test func everyResponseCarriesARequestID() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        let first = try await client.request("GET", "/hello")
        let second = try await client.request("GET", "/hello")
        let firstID = try #require(first.header("x-request-id"))
        #expect(firstID.count == 32)
        #expect(second.header("x-request-id") != firstID)
        try await test.server.shutdown()
    }

    @Test func silentHalfRequestIsDisconnectedAfterTheTimeout() async throws {
        let test = try await TestServer.start(idleTimeout: .milliseconds(500))
        let client = try test.client(timeout: 5)
        try await client.send("GET /hello HTTP/1.1\r\nHost: x\r\n")  // the head never ends
        let started = Date()
        #expect(try await client.waitForClose())
        #expect(Date().timeIntervalSince(started) < 4)
        try await test.server.shutdown()
    }

    @Test func silentBodyGets408ThenClose() async throws {
        let test = try await TestServer.start(idleTimeout: .milliseconds(500))
        let client = try test.client(timeout: 5)
        try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
        let response = try await client.readResponse()
        #expect(response.status == 408)
        #expect(try await client.waitForClose())
        try await test.server.shutdown()
    }

    @Test func slowHandlerIsNotCutOffByTheIdleTimeout() async throws {
        let test = try await TestServer.start(idleTimeout: .milliseconds(300))
        let response = try await test.client().request("GET", "/slow")
        #expect(response.status == 200 && response.text == "finally")
        try await test.server.shutdown()
    }

    @Test func shutdownLetsAnInFlightRequestFinish() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        try await client.send(RawHTTPClient.requestBytes("GET", "/slow"))
        let deadline = ContinuousClock.now + .seconds(10)
        while test.slowStarted.value == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let shutdown = Task { try await test.server.shutdown() }
        let response = try await client.readResponse()
        #expect(response.status == 200 && response.text == "finally")
        try await shutdown.value
        #expect(throws: RawHTTPClient.Failure.self) { try test.client() }
    }
}

@Suite("The request path: bounded in time, cancelled with its client")
struct RequestPathTests {
    /// Waits up to `seconds` for `condition`; returns whether it held.
    static func eventually(within seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    @Test func aClientThatLeavesCancelsItsRequestsWork() async throws {
        let test = try await TestServer.start()
        let client = try test.client()
        try await client.send(RawHTTPClient.requestBytes("GET", "/wait"))
        #expect(try await Self.eventually(within: 5) { test.waits.value == 1 })
        client.disconnect()
        #expect(
            try await Self.eventually(within: 1) { test.cancelledWaits.value == 1 },
            "the handler is cancelled, not left running 30 s")
        try await test.server.shutdown()
    }

    @Test func aHandlerOverItsBudgetIsCancelledAnd503() async throws {
        let test = try await TestServer.start(requestBudget: .milliseconds(300))
        let started = ContinuousClock.now
        let response = try await test.client().request("GET", "/wait")
        #expect(response.status == 503 && response.json["code"] as? String == "request-budget-exceeded")
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(test.cancelledWaits.value == 1)
        try await test.server.shutdown()
    }

    @Test func aHandlerThatIgnoresCancellationIsAnsweredForAndItsLateAnswerDropped() async throws {
        let test = try await TestServer.start(requestBudget: .milliseconds(200))
        let client = try test.client()
        let started = ContinuousClock.now
        let response = try await client.request("GET", "/stubborn")
        #expect(response.status == 503 && response.json["code"] as? String == "request-budget-exceeded")
        #expect(
            ContinuousClock.now - started < .milliseconds(1900),
            "answered after the budget and the grace, not after 2 s")
        // The same connection goes on, and its next answer is its own, not the late one.
        #expect(try await client.request("GET", "/hello").text == "hello")
        try await Task.sleep(for: .seconds(2))
        #expect(try await client.request("GET", "/echo/again").text == "again")
        try await test.server.shutdown()
    }

    @Test func shutdownEndsWithinItsGraceAndCancelsWhatIsLeft() async throws {
        let test = try await TestServer.start(shutdownGrace: .milliseconds(500))
        let client = try test.client()
        try await client.send(RawHTTPClient.requestBytes("GET", "/wait"))
        #expect(try await Self.eventually(within: 5) { test.waits.value == 1 })
        let started = ContinuousClock.now
        try await test.server.shutdown()
        #expect(
            ContinuousClock.now - started < .seconds(3), "a 30-second handler does not hold shutdown past its grace")
        #expect(try await Self.eventually(within: 1) { test.cancelledWaits.value == 1 })
    }

    @Test func every408IsLoggedAndCounted() async throws {
        let test = try await TestServer.start(idleTimeout: .milliseconds(400))
        let body = try test.client(timeout: 5)
        try await body.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
        #expect(try await body.readResponse().status == 408)
        let head = try test.client(timeout: 5)
        try await head.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
        #expect(try await head.readResponse().status == 408)
        let exposition = String(decoding: test.server.metrics.exposition(), as: UTF8.self)
        let timeouts = exposition.split(separator: "\n").filter {
            $0.hasPrefix("http_requests_total") && $0.contains("status=\"408\"")
        }
        #expect(timeouts.count == 2, "\(timeouts)")
        #expect(timeouts.contains { $0.contains("route=\"/echo\"") })
        try await test.server.shutdown()
    }

    @Test func anAbsoluteFormTargetIsServedLikeItsPath() async throws {
        let test = try await TestServer.start()
        #expect(try await test.client().request("GET", "http://127.0.0.1:\(test.port)/hello").text == "hello")
        #expect(try await test.client().request("GET", "HTTP://example.org/echo/abc").text == "abc")
        let missing = try await test.client().request("GET", "http://example.org")
        #expect(missing.status == 404)
        try await test.server.shutdown()
    }
}

@Suite("Request ids on protocol errors")
struct ProtocolErrorRequestIDTests {
    @Test func malformedRequestAndTimeoutAnswersCarryARequestID() async throws {
        let test = try await TestServer.start(idleTimeout: .milliseconds(400))
        let garbage = try test.client()
        try await garbage.send("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        let refused = try await garbage.readResponse()
        #expect(refused.status == 400)
        #expect(refused.header("x-request-id")?.isEmpty == false)
        let slow = try test.client()
        try await slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        let timedOut = try await slow.readResponse()
        #expect(timedOut.status == 408)
        #expect(timedOut.header("x-request-id")?.isEmpty == false)
        try await test.server.shutdown()
    }

    @Test func nulInThePathOrQueryIs400() async throws {
        let test = try await TestServer.start()
        let path = try await test.client().request("GET", "/echo/a%00b")
        #expect(path.status == 400 && path.json["code"] as? String == "malformed-request")
        let query = try await test.client().request("GET", "/hello?x=%00")
        #expect(query.status == 400)
        try await test.server.shutdown()
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
