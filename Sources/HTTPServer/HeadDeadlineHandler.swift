import NIOCore
import NIOHTTP1

/// What `HTTPRequestHandler` tells `HeadDeadlineHandler` about the request in progress.
enum RequestHeadEvent: Sendable {
    /// A complete head was parsed: the deadline is met.
    case headReceived
    /// The response was written; the next bytes start a new head.
    case awaitingNextHead
}

/// Gives every request head a deadline from its first byte, so a client that dribbles a
/// header a byte at a time (each byte resetting the idle timer) still gets 408 and is closed.
///
/// It sits in front of the HTTP codec and sees raw bytes; the request handler behind the
/// codec reports when a head is complete through `RequestHeadEvent` outbound events.
/// The 408 is written as raw bytes, since no request reached the HTTP layers.
final class HeadDeadlineHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum State {
        /// No byte of the next request yet.
        case awaitingBytes
        /// Bytes of a head arrived; it must be complete before the deadline.
        case readingHead(deadline: NIODeadline)
        /// The head is complete; the rest of the request is the request handler's business.
        case headComplete
        /// A 408 was sent; the connection is closing.
        case expired
    }

    private var state = State.awaitingBytes
    private let timeout: TimeAmount
    /// Fires at or before the deadline of the head being read. It is not cancelled when a
    /// head completes in time (most do, within a millisecond): when it fires it checks the
    /// head being read then, and waits on for that head's deadline if it has not passed,
    /// so a busy keep-alive connection schedules one timer per `timeout`, not per request.
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .awaitingBytes:
            let deadline = NIODeadline.now() + timeout
            state = .readingHead(deadline: deadline)
            if timer == nil { arm(at: deadline, context: context) }
        case .readingHead, .headComplete:
            break
        case .expired:
            return  // the answer is sent; nothing more is read
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestHeadEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch (event, state) {
        case (.headReceived, .readingHead), (.headReceived, .awaitingBytes), (.headReceived, .headComplete):
            state = .headComplete
        case (.awaitingNextHead, .headComplete), (.awaitingNextHead, .awaitingBytes):
            state = .awaitingBytes
        case (.awaitingNextHead, .readingHead), (_, .expired):
            break
        }
        promise?.succeed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A head still incomplete when the connection goes idle gets the same 408.
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, case .readingHead = state {
            expire(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        state = .expired
        context.fireChannelInactive()
    }

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard case .readingHead(let deadline) = handler.state else { return }
            if deadline <= .now() {
                handler.expire(context: context)
            } else {
                handler.arm(at: deadline, context: context)
            }
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private func expire(context: ChannelHandlerContext) {
        guard case .readingHead = state else { return }
        disarm()
        state = .expired
        let problem = Problem(
            status: .requestTimeout, code: "request-timeout", title: "Request timeout",
            detail: "The request head was not complete within \(timeout.nanoseconds / 1_000_000_000) seconds.")
        var bytes = context.channel.allocator.buffer(capacity: 512)
        bytes.writeString(Self.render(problem.response()))
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// A complete HTTP/1.1 response as text (problem bodies are UTF-8 JSON).
    static func render(_ response: HTTPResponse) -> String {
        var text = "HTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "content-length: \(response.body.readableBytes)\r\n"
        text += "x-request-id: \(HTTPRequest.newRequestID())\r\nconnection: close\r\n\r\n"
        text += String(decoding: response.body.readableBytesView, as: UTF8.self)
        return text
    }
}
