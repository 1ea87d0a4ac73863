import NIOCore
import NIOHTTP1

/// The two clocks of a connection, in front of the HTTP codec:
/// - **idle**: when no byte has arrived for `idleTimeout`, `IdleStateHandler.IdleStateEvent.read`
///   goes down the pipeline (the request handler closes the connection, or answers 408 to a
///   stalled body), again every `idleTimeout` while it stays silent;
/// - **head deadline**: a request head must be complete `headTimeout` after its first byte,
///   so a client that dribbles a header a byte at a time (each byte resetting the idle clock)
///   still gets 408 and is closed. A head still incomplete when the connection goes idle
///   gets the same 408.
///
/// It sees raw bytes; `HTTPRequestHandler`, behind the codec, calls `headReceived()` and
/// `awaitingNextHead()` on it directly. It is an inbound handler only, so responses never
/// pass through it (as NIO's `IdleStateHandler` and outbound events, it cost two pipeline
/// hops for each of a response's writes, and two events through every outbound handler, per
/// request). The 408 is written as raw bytes, since no request reached the HTTP layers.
final class ConnectionTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = IOData

    private enum State {
        /// No byte of the next request yet.
        case awaitingBytes
        /// Bytes of a head arrived; it must be complete before the deadline.
        case readingHead(deadline: NIODeadline)
        /// The head is complete; the rest of the request is the request handler's business.
        case headComplete
        /// A 408 was sent or the connection is gone.
        case expired
    }

    private var state = State.awaitingBytes
    private let idleTimeout: TimeAmount
    private let headTimeout: TimeAmount
    /// When the last bytes arrived.
    private var lastRead = NIODeadline.now()
    /// The timers fire at or before their deadline and are not moved when a read or a head
    /// moves the deadline (most heads complete within a millisecond): when one fires it
    /// checks the deadline then, and waits on for it if it has not passed, so a busy
    /// keep-alive connection schedules one timer per timeout period, not per request.
    private var idleTimer: Scheduled<Void>?
    private var headTimer: Scheduled<Void>?

    /// Logs and counts the 408 this handler sends itself, and tags it with a request id.
    private let record: @Sendable (HTTPResponse) -> HTTPResponse

    init(
        idleTimeout: TimeAmount, headTimeout: TimeAmount,
        record: @escaping @Sendable (HTTPResponse) -> HTTPResponse = { $0 }
    ) {
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
        self.record = record
    }

    // MARK: From the request handler

    /// A complete head was parsed: its deadline is met.
    func headReceived() {
        if case .expired = state { return }
        state = .headComplete
    }

    /// The response was written; the next bytes start a new head.
    func awaitingNextHead() {
        switch state {
        case .headComplete, .awaitingBytes: state = .awaitingBytes
        case .readingHead, .expired: break
        }
    }

    // MARK: Inbound

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startIdleClock(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdleClock(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        lastRead = now
        switch state {
        case .awaitingBytes:
            let deadline = now + headTimeout
            state = .readingHead(deadline: deadline)
            if headTimer == nil { armHead(at: deadline, context: context) }
        case .readingHead, .headComplete:
            break
        case .expired:
            return  // the answer is sent; nothing more is read
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        state = .expired
        context.fireChannelInactive()
    }

    // MARK: Timers

    private func startIdleClock(context: ChannelHandlerContext) {
        guard idleTimer == nil, case .awaitingBytes = state else { return }
        lastRead = .now()
        armIdle(at: lastRead + idleTimeout, context: context)
    }

    private func armIdle(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.idleTimer = nil
            if case .expired = handler.state { return }
            let now = NIODeadline.now()
            let idleAt = handler.lastRead + handler.idleTimeout
            guard idleAt <= now else {
                handler.armIdle(at: idleAt, context: context)
                return
            }
            handler.armIdle(at: now + handler.idleTimeout, context: context)
            if case .readingHead = handler.state {
                handler.expire(context: context)
            } else {
                context.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
            }
        }
    }

    private func armHead(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        headTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.headTimer = nil
            guard case .readingHead(let deadline) = handler.state else { return }
            if deadline <= .now() {
                handler.expire(context: context)
            } else {
                handler.armHead(at: deadline, context: context)
            }
        }
    }

    private func disarm() {
        idleTimer?.cancel()
        idleTimer = nil
        headTimer?.cancel()
        headTimer = nil
    }

    private func expire(context: ChannelHandlerContext) {
        guard case .readingHead = state else { return }
        disarm()
        state = .expired
        let problem = Problem.requestTimeout(
            "The request head was not complete within \(headTimeout.nanoseconds / 1_000_000_000) seconds.")
        var bytes = context.channel.allocator.buffer(capacity: 512)
        bytes.writeString(Self.render(record(problem.response())))
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// A complete HTTP/1.1 response as text (problem bodies are UTF-8 JSON).
    static func render(_ response: HTTPResponse) -> String {
        var text = "HTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "content-length: \(response.body.readableBytes)\r\n"
        if !response.headers.contains(name: "x-request-id") {
            text += "x-request-id: \(HTTPRequest.newRequestID())\r\n"
        }
        text += "connection: close\r\n\r\n"
        text += String(decoding: response.body.readableBytesView, as: UTF8.self)
        return text
    }
}
