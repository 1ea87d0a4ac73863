import BackboneCore
import CoreMetrics
import Crypto
import Foundation
import JSON
import Logging
import Postgres
import TestSupport
import Testing

@testable import BackboneCLI

/// The delivery worker against a real receiver on 127.0.0.1: signatures, retries under one
/// `webhook-id`, 410, redirects, bounded bodies, timeouts, address checks, two workers.
@Suite("Webhook deliveries to a real receiver")
struct WebhookDeliveryTests {
    static let coordinator = KeyHolder(keyID: "coordinator-key", partner: nil)
    static let partnerA = KeyHolder(keyID: "partner-a-key", partner: "partner-a")

    /// A migrated database with two partners, its pool and the settings tests send with.
    struct Setup {
        let pool: ConnectionPool
        var settings = WebhookSettings(allowPrivateNetworks: true, retryScale: 0.001, timeoutSeconds: 2)

        static func start() async throws -> Setup {
            let pool = ConnectionPool(conninfo: try TestDatabase.fresh(), size: 6)
            try await pool.withConnection { connection in
                _ = try Schema.migrate(connection)
                try connection.query(
                    "INSERT INTO partners (id, name, kind) VALUES ('partner-a', 'A', 'library'), ('partner-b', 'B', 'school')"
                )
            }
            return Setup(pool: pool)
        }

        func endpoint(_ url: String, events: [String] = ["*"], by owner: KeyHolder = WebhookDeliveryTests.coordinator)
            async throws -> (
                Int, String
            )
        {
            let subscription = try await Webhooks.check(
                url: url, events: events, description: "test", by: owner, settings: settings)
            let (endpoint, secret) = try await pool.transaction { try Webhooks.create($0, subscription) }
            return (endpoint.id, secret)
        }

        @discardableResult
        func event(
            _ type: EventType = .measurementsSubmitted, partner: String? = "partner-a", data: JSONValue = .object([:])
        )
            async throws -> Int
        {
            try await pool.transaction { try Outbox.append($0, type, agenda: nil, partner: partner, data: data) }
        }

        func worker() -> WebhookDeliveries {
            var logger = Logger(label: "webhooks-test")
            logger.logLevel = .error
            return WebhookDeliveries(
                pool: pool, settings: settings, metrics: WebhookMetrics(factory: TestMetrics.factory), logger: logger,
                idle: .milliseconds(20))
        }

        /// Runs `count` workers while `body` runs.
        func withWorkers<T>(_ count: Int = 1, _ body: () async throws -> T) async throws -> T {
            let tasks = (0..<count).map { _ in
                let worker = self.worker()
                return Task { try await worker.run() }
            }
            defer { for task in tasks { task.cancel() } }
            let value = try await body()
            for task in tasks {
                task.cancel()
                _ = try? await task.value
            }
            return value
        }

        func deliveries(_ endpoint: Int) async throws -> [WebhookDelivery] {
            try await pool.withConnection {
                try Webhooks.deliveries(
                    $0, endpoint: endpoint, by: WebhookDeliveryTests.coordinator, before: nil, limit: 100
                ).items
            }
        }

        /// Waits until the first delivery of `endpoint` has an attempt recorded, for up to `seconds`.
        func attempted(_ endpoint: Int, seconds: Double = 20) async throws -> WebhookDelivery? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let found = try await deliveries(endpoint).first, !found.attempts.isEmpty { return found }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await deliveries(endpoint).first
        }

        /// Waits until every delivery of `endpoint` is no longer pending, for up to `seconds`.
        func settled(_ endpoint: Int, seconds: Double = 20) async throws -> [WebhookDelivery] {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let found = try await deliveries(endpoint)
                if !found.isEmpty && found.allSatisfy({ $0.status != .pending }) { return found }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await deliveries(endpoint)
        }
    }

    /// Verifies a request as a receiver would, independently of `WebhookSignature`.
    static func verifies(_ request: TestReceiver.Received, secret: String) -> Bool {
        guard let id = request.headers["webhook-id"], let timestamp = request.headers["webhook-timestamp"],
            let signatures = request.headers["webhook-signature"],
            let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count)))
        else { return false }
        let signed = Data("\(id).\(timestamp).".utf8) + Data(request.body)
        let expected = Data(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key)))
        return signatures.split(separator: " ").contains { part in
            part.hasPrefix("v1,") && Data(base64Encoded: String(part.dropFirst(3))) == expected
        }
    }

    @Test func aDeliveryIsSignedAsStandardWebhooksSaysAndCarriesTypeTimestampAndData() async throws {
        let receiver = try await TestReceiver.start()
        let setup = try await Setup.start()
        let (endpoint, secret) = try await setup.endpoint(receiver.url)
        #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
        let event = try await setup.event(data: .object(["batch": .string("b-1"), "rows": .number(3)]))
        // Workers run until the attempt is recorded, not only sent.
        let (received, settled) = try await setup.withWorkers {
            (try await receiver.wait { $0.count == 1 }, try await setup.settled(endpoint))
        }
        let request = try #require(received.first)
        #expect(Self.verifies(request, secret: secret))
        #expect(!Self.verifies(request, secret: WebhookSignature.newSecret()))
        #expect(request.webhookID == "msg_\(event)")
        let timestamp = try #require(Int(request.headers["webhook-timestamp"] ?? ""))
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 30)
        let body = try #require(try JSONValue.parse(Data(request.body)).objectValue)
        #expect(body["type"] == .string("measurements.submitted"))
        #expect(body["data"] == .object(["batch": .string("b-1"), "rows": .number(3)]))
        if case .string(let stamp)? = body["timestamp"] {
            #expect(stamp.hasSuffix("Z"))
        } else {
            Issue.record("timestamp")
        }
        let delivery = try #require(settled.first)
        #expect(delivery.status == .delivered && delivery.attempts.count == 1)
        #expect(delivery.attempts.first?.statusCode == 200 && delivery.attempts.first?.responseStart == "ok")
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func failuresAreRetriedUnderTheSameWebhookIDUntilDelivered() async throws {
        let receiver = try await TestReceiver.start { number, _ in
            number <= 2 ? .init(status: 500, body: Array("boom".utf8)) : .init()
        }
        let setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url)
        let event = try await setup.event()
        let (received, settled) = try await setup.withWorkers {
            (try await receiver.wait { $0.count >= 3 }, try await setup.settled(endpoint))
        }
        #expect(received.count == 3)
        #expect(Set(received.map(\.webhookID)) == ["msg_\(event)"])
        let delivery = try #require(settled.first)
        #expect(delivery.status == .delivered)
        #expect(delivery.attempts.map(\.statusCode) == [500, 500, 200])
        #expect(delivery.attempts.first?.responseStart == "boom")
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func retryAfterIsHonouredWhenLaterThanTheSchedule() async throws {
        let receiver = try await TestReceiver.start { number, _ in
            number == 1 ? .init(status: 503, headers: [("Retry-After", "2")]) : .init()
        }
        let setup = try await Setup.start()
        _ = try await setup.endpoint(receiver.url)
        try await setup.event()
        let received = try await setup.withWorkers { try await receiver.wait { $0.count >= 2 } }
        try #require(received.count == 2)
        #expect(received[1].at.timeIntervalSince(received[0].at) >= 1.9)
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func a410DisablesTheEndpointAndCancelsItsPendingDeliveries() async throws {
        let receiver = try await TestReceiver.start { _, _ in .init(status: 410) }
        let setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url)
        try await setup.event()
        try await setup.withWorkers { try await setup.attempted(endpoint) }
        let disabled = try await setup.pool.withConnection {
            try Webhooks.endpoint($0, id: endpoint, by: Self.coordinator)
        }
        #expect(!disabled.active && disabled.disabledReason?.contains("410") == true)
        #expect(try await setup.deliveries(endpoint).map(\.status) == [.failed])
        // Later events are not fanned out to it.
        try await setup.event()
        try await setup.withWorkers { try await Task.sleep(for: .milliseconds(500)) }
        #expect(receiver.requests.count == 1)
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func aRedirectIsNotFollowedAndALongBodyIsReadOnlyInPart() async throws {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let receiver = try await TestReceiver.start { _, request in
            request.path == "/hook"
                ? .init(status: 302, headers: [("Location", "/elsewhere")], body: long) : .init(status: 200)
        }
        let setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url)
        try await setup.event()
        let delivery = try await setup.withWorkers { try #require(try await setup.attempted(endpoint)) }
        let attempt = try #require(delivery.attempts.first)
        #expect(attempt.statusCode == 302)
        #expect(attempt.responseStart?.utf8.count == 1024)
        #expect(receiver.requests.allSatisfy { $0.path == "/hook" })
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func aSlowReceiverTimesOutAndIsTriedAgain() async throws {
        let receiver = try await TestReceiver.start { number, _ in
            number == 1 ? .init(delay: .seconds(4)) : .init()
        }
        let setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url)
        try await setup.event()
        let delivery = try await setup.withWorkers { try #require(try await setup.settled(endpoint).first) }
        #expect(delivery.status == .delivered)
        #expect(delivery.attempts.count == 2)
        #expect(delivery.attempts.first?.error?.contains("timed out") == true)
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func anAddressThatIsNoLongerAllowedIsRefusedBeforeTheAttempt() async throws {
        let receiver = try await TestReceiver.start()
        var setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url)
        try await setup.event()
        setup.settings.allowPrivateNetworks = false
        let delivery = try await setup.withWorkers { try #require(try await setup.attempted(endpoint)) }
        #expect(delivery.attempts.first?.error?.contains("not a public address") == true)
        #expect(receiver.requests.isEmpty)
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func twoWorkersOnOneDatabaseDeliverEachEventOnce() async throws {
        let receiver = try await TestReceiver.start()
        let setup = try await Setup.start()
        let (endpoint, secret) = try await setup.endpoint(receiver.url)
        var events: [Int] = []
        for index in 0..<60 {
            events.append(try await setup.event(data: .object(["n": .number(Double(index))])))
        }
        let settled = try await setup.withWorkers(2) {
            try await receiver.wait(seconds: 30) { $0.count >= events.count }
            try await Task.sleep(for: .milliseconds(500))  // room for a repeat to show
            return try await setup.settled(endpoint)
        }
        let received = receiver.requests
        #expect(received.count == events.count)
        #expect(Set(received.map(\.webhookID)) == Set(events.map { "msg_\($0)" }))
        #expect(received.allSatisfy { Self.verifies($0, secret: secret) })
        #expect(settled.count == events.count && settled.allSatisfy { $0.status == .delivered })
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func aSlowEndpointHoldsOnlyItsOwnSendSlots() async throws {
        let slow = try await TestReceiver.start { _, _ in .init(delay: .milliseconds(1500)) }
        let fast = try await TestReceiver.start()
        let setup = try await Setup.start()
        let (slowEndpoint, _) = try await setup.endpoint(slow.url, events: ["period.locked"])
        let (fastEndpoint, _) = try await setup.endpoint(fast.url, events: ["measurements.submitted"])
        // The slow endpoint's backlog is older, so it comes first in the queue.
        for _ in 0..<20 { try await setup.event(.periodLocked, partner: nil) }
        for _ in 0..<5 { try await setup.event() }
        let (slowBeforeFastWasDone, fastDeliveries) = try await setup.withWorkers {
            _ = try await fast.wait(seconds: 10) { $0.count >= 5 }
            return (slow.requests.count, try await setup.settled(fastEndpoint))
        }
        #expect(fast.requests.count == 5)
        // One worker has 16 slots; the slow endpoint may take 4 of them at once, not all.
        #expect(slowBeforeFastWasDone <= WebhookSettings.sendsPerEndpoint, "\(slowBeforeFastWasDone)")
        #expect(fastDeliveries.count == 5 && fastDeliveries.allSatisfy { $0.status == .delivered })
        #expect(try await setup.deliveries(slowEndpoint).count == 20)
        try await slow.stop()
        try await fast.stop()
        try await setup.pool.close()
    }

    @Test func finishedDeliveriesAndDeliveredEventsArePurgedAfterTheRetention() async throws {
        let receiver = try await TestReceiver.start()
        let setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url)
        let delivered = try await setup.event()
        _ = try await setup.withWorkers { try await setup.settled(endpoint) }
        let pending = try await setup.event()
        try await setup.pool.withConnection { _ = try WebhookQueue.fanOut($0) }
        // A reminder's event is its record; an event nobody subscribed to is only history.
        let reminder = try await setup.event(.reminderDue)
        let unsubscribed = try await setup.event(.flagOpened)
        try await setup.pool.withConnection { connection in
            try connection.query(
                """
                INSERT INTO reminders_sent (partner_id, indicator_code, period, stage, event_id)
                VALUES ('partner-a', 'esl', '2026-01', 'due', \(reminder))
                """)
            try connection.query(
                "UPDATE outbox_events SET fanned_out_at = now() WHERE id IN (\(reminder), \(unsubscribed))")
            try connection.query("UPDATE webhook_deliveries SET updated_at = now() - interval '31 days'")
            try connection.query("UPDATE outbox_events SET fanned_out_at = now() - interval '31 days'")
        }
        let kept = try await setup.pool.withConnection { try WebhookQueue.purge($0, olderThanDays: 40) }
        #expect(kept == (0, 0))
        let purged = try await setup.pool.withConnection { try WebhookQueue.purge($0, olderThanDays: 30) }
        #expect(purged == (1, 2))
        let left = try await setup.pool.withConnection { connection in
            (
                try connection.query("SELECT id FROM outbox_events ORDER BY id").map { try $0.decode(Int.self) },
                try connection.query("SELECT count(*) FROM webhook_attempts")[0].decode(Int.self),
                try connection.query("SELECT status FROM webhook_deliveries").map { try $0.decode(String.self) }
            )
        }
        #expect(left.0 == [pending, reminder] && !left.0.contains(delivered))
        #expect(left.1 == 0 && left.2 == ["pending"])
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func aPartnersEndpointNeverReceivesAnotherPartnersEvents() async throws {
        let receiver = try await TestReceiver.start()
        let setup = try await Setup.start()
        let (endpoint, _) = try await setup.endpoint(receiver.url, by: Self.partnerA)
        let own = try await setup.event(partner: "partner-a")
        try await setup.event(partner: "partner-b")
        try await setup.event(.periodLocked, partner: nil)
        try await setup.event(.flagOpened, partner: "partner-b")
        try await setup.event(
            .measurementsSubmitted, partner: "partner-a", data: .object(["audience": .string("coordinator")]))
        let ping = try await setup.pool.transaction { try Webhooks.ping($0, id: endpoint, by: Self.partnerA) }
        try await setup.withWorkers {
            try await receiver.wait { $0.count >= 2 }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(Set(receiver.requests.map(\.webhookID)) == ["msg_\(own)", "msg_\(ping)"])
        #expect(receiver.requests.count == 2)
        try await receiver.stop()
        try await setup.pool.close()
    }

    @Test func theRetryScheduleGrowsWithJitterAndEnds() {
        #expect(RetrySchedule.delay(afterFailedAttempts: 1, scale: 1, jitter: 1) == 5)
        #expect(RetrySchedule.delay(afterFailedAttempts: 9, scale: 1, jitter: 1) == 86_400)
        #expect(RetrySchedule.delay(afterFailedAttempts: 10, scale: 1) == nil)
        let jittered = RetrySchedule.delay(afterFailedAttempts: 2, scale: 1)!
        #expect(jittered >= 270 && jittered <= 330)
        #expect(RetrySchedule.delay(afterFailedAttempts: 1, scale: 0.001, retryAfter: 3, jitter: 1) == 3)
        #expect(RetrySchedule.retryAfterSeconds("120") == 120)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetrySchedule.retryAfterSeconds("Tue, 14 Nov 2023 22:14:20 GMT", now: now) == 60)
        #expect(RetrySchedule.retryAfterSeconds("soon") == nil)
    }

    @Test func privateLoopbackAndLinkLocalAddressesAreRefused() {
        for url in [
            "http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::1]/hook",
            "http://localhost:8080/hook", "http://100.64.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
            "http://0.0.0.0/", "http://[fc00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            #expect(WebhookAddress.refusal(url, allowPrivateNetworks: false) != nil, "\(url)")
        }
        for url in ["ftp://198.51.100.7/", "http:///nohost", "not a url", "http://user:pw@198.51.100.7/"] {
            #expect(WebhookAddress.refusal(url, allowPrivateNetworks: true) != nil, "\(url)")
        }
        #expect(WebhookAddress.refusal("https://198.51.100.7/hook", allowPrivateNetworks: false) == nil)
        #expect(WebhookAddress.refusal("http://127.0.0.1:9/hook", allowPrivateNetworks: true) == nil)
    }
}

/// One metrics factory for every test worker (swift-metrics counters are registered by label).
enum TestMetrics {
    static let factory: any MetricsFactory = NOOPMetricsHandler.instance
}
