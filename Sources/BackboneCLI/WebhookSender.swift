import AsyncHTTPClient
import BackboneCore
import Foundation
import NIOCore
import NIOHTTP1

/// Sends one attempt of a delivery over HTTP (AsyncHTTPClient): signed as Standard Webhooks
/// says, redirects not followed, at most `timeoutSeconds` for connecting and the whole
/// exchange, the response's first KiB kept and the rest read and dropped as it comes.
final class WebhookSender: Sendable {
    let client: HTTPClient
    let settings: WebhookSettings

    /// How much of a response body is kept.
    static let keptBytes = 1024

    init(settings: WebhookSettings) {
        self.settings = settings
        let timeout = TimeAmount.seconds(Int64(settings.timeoutSeconds))
        client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout),
                // As many connections to one receiver as the worker sends at once.
                connectionPool: .init(
                    idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: WebhookDeliveries.batch)))
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// Makes the attempt; never throws (a refused address, a timeout or a connection error is an outcome).
    func send(_ claim: WebhookQueue.Claim) async -> WebhookQueue.Outcome {
        // The address is checked again before each attempt: DNS can change after the endpoint was made.
        if let refusal = await WebhookAddress.refusalResolvingAside(
            claim.url, allowPrivateNetworks: settings.allowPrivateNetworks)
        {
            return WebhookQueue.Outcome(error: "refused: url \(refusal)")
        }
        let body = claim.body
        let timestamp = Int(Date().timeIntervalSince1970)
        guard
            let signature = WebhookSignature.sign(
                id: claim.messageID, timestamp: timestamp, body: body, secret: claim.secret)
        else { return WebhookQueue.Outcome(error: "the endpoint's secret is not a whsec_ secret") }
        var request = HTTPClientRequest(url: claim.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "Backbone-Webhooks/\(BackboneVersion.current)")
        request.headers.add(name: "webhook-id", value: claim.messageID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: signature)
        request.body = .bytes(ByteBuffer(bytes: body))
        let started = ContinuousClock.now
        let deadline = NIODeadline.now() + .seconds(Int64(settings.timeoutSeconds))
        let client = self.client
        let timeout = settings.timeoutSeconds
        let prepared = request
        do {
            return try await withThrowingTaskGroup(of: WebhookQueue.Outcome.self) { group in
                group.addTask {
                    let response = try await client.execute(prepared, deadline: deadline)
                    var kept: [UInt8] = []
                    for try await chunk in response.body where kept.count < Self.keptBytes {
                        kept += chunk.readableBytesView.prefix(Self.keptBytes - kept.count)
                    }
                    let retryAfter = response.headers.first(name: "retry-after").flatMap {
                        RetrySchedule.retryAfterSeconds($0)
                    }
                    return WebhookQueue.Outcome(
                        statusCode: Int(response.status.code), latencyMilliseconds: Self.milliseconds(since: started),
                        responseStart: kept, retryAfter: retryAfter)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return WebhookQueue.Outcome(
                        latencyMilliseconds: Self.milliseconds(since: started),
                        error: "timed out after \(timeout) s")
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
        } catch let error as HTTPClientError
            where [.deadlineExceeded, .readTimeout, .connectTimeout, .cancelled].contains(error)
        {
            return WebhookQueue.Outcome(
                latencyMilliseconds: Self.milliseconds(since: started), error: "timed out after \(timeout) s (\(error))"
            )
        } catch {
            return WebhookQueue.Outcome(latencyMilliseconds: Self.milliseconds(since: started), error: "\(error)")
        }
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
