import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A webhook receiver on 127.0.0.1 for the tests: records every request and answers as
/// `answer` says (status, headers, body, after a delay), by the request's number (1 first).
final class TestReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var at: Date

        var webhookID: String { headers["webhook-id"] ?? "" }
    }

    struct Answer: Sendable {
        var status: Int = 200
        var headers: [(String, String)] = []
        var body: [UInt8] = Array("ok".utf8)
        var delay: Duration = .zero
    }

    typealias Answering = @Sendable (Int, Received) -> Answer

    private let received = Mutex<[Received]>([])
    private let answering: Mutex<Answering>
    private let channel = Mutex<(any Channel)?>(nil)
    private(set) nonisolated(unsafe) var port = 0

    private init(_ answer: @escaping Answering) {
        answering = Mutex(answer)
    }

    static func start(_ answer: @escaping Answering = { _, _ in Answer() }) async throws -> TestReceiver {
        let receiver = TestReceiver(answer)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(receiver: receiver))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        receiver.port = channel.localAddress?.port ?? 0
        receiver.channel.withLock { $0 = channel }
        return receiver
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var requests: [Received] { received.withLock { $0 } }

    /// Answers differently from now on.
    func answer(_ answer: @escaping Answering) { answering.withLock { $0 = answer } }

    func stop() async throws {
        try await channel.withLock { $0 }?.close()
    }

    /// Waits until `condition` holds of the requests received, for up to `seconds`.
    @discardableResult
    func wait(seconds: Double = 15, until condition: ([Received]) -> Bool) async throws -> [Received] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let now = requests
            if condition(now) { return now }
            try await Task.sleep(for: .milliseconds(50))
        }
        return requests
    }

    fileprivate func record(_ request: Received) -> Answer {
        let number = received.withLock {
            $0.append(request)
            return $0.count
        }
        let answering = self.answering.withLock { $0 }
        return answering(number, request)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let receiver: TestReceiver
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(receiver: TestReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let answer = receiver.record(Received(path: head.uri, headers: headers, body: body, at: Date()))
                let respond = { [self] in
                    var responseHeaders = HTTPHeaders(answer.headers)
                    responseHeaders.add(name: "content-length", value: String(answer.body.count))
                    responseHeaders.add(name: "connection", value: "close")
                    let responseHead = HTTPResponseHead(
                        version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status),
                        headers: responseHeaders)
                    context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer.body)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                        context.close(promise: nil)
                    }
                }
                if answer.delay == .zero {
                    respond()
                } else {
                    let nanoseconds =
                        answer.delay.components.seconds * 1_000_000_000 + answer.delay.components.attoseconds
                        / 1_000_000_000
                    context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) { respond() }
                }
            }
        }
    }
}
