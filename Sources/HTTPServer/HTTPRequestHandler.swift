import Logging
import NIOCore
import NIOHTTP1

/// Collects one request at a time (head and body, within the size limit), hands it to
/// the responder off the event loop, and writes the response back.
///
/// `HTTPServerPipelineHandler` in front of it delivers pipelined requests one by one,
/// so this handler only ever has one request in flight.
final class HTTPRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// Reading a request's body.
        case receiving(HTTPRequestHead, ByteBuffer)
        /// The request was refused (too large); its remaining parts are dropped.
        case discarding
        /// The responder is working on a request.
        case responding
    }

    private var state = State.idle
    private let responder: Responder
    private let maxBodySize: Int
    private let logger: Logger

    init(responder: Responder, maxBodySize: Int, logger: Logger) {
        self.responder = responder
        self.maxBodySize = maxBodySize
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBodySize {
                refuseTooLarge(head, context: context)
            } else {
                state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
            }
        case (.body(var chunk), .receiving(let head, var body)):
            guard body.readableBytes + chunk.readableBytes <= maxBodySize else {
                refuseTooLarge(head, context: context)
                return
            }
            state = .idle  // drop the reference so the append does not copy
            body.writeBuffer(&chunk)
            state = .receiving(head, body)
        case (.end, .receiving(let head, let body)):
            state = .responding
            dispatch(head: head, body: body, context: context)
        case (.end, .discarding):
            state = .idle
        case (.body, .discarding):
            break
        default:
            preconditionFailure("request part out of order in state \(state)")
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .idle, .discarding:
            context.close(promise: nil)
        case .receiving(let head, _):
            // The client started a request and went silent.
            let problem = Problem(
                status: .requestTimeout, code: "request-timeout", title: "Request timeout",
                detail: "The request was not completed in time.")
            let requestID = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers).id
            write(problem.response(), version: head.version, requestID: requestID, keepAlive: false, context: context)
            state = .discarding
        case .responding:
            break  // the server is the slow one; the client is waiting for us
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let problem = Problem(
            status: .payloadTooLarge, code: "body-too-large", title: "Request body too large",
            detail: "The body exceeds the limit of \(maxBodySize) bytes; split the batch into smaller requests.")
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers)
        // The unread rest of the body would be taken for the next request: close after answering.
        write(problem.response(), version: head.version, requestID: request.id, keepAlive: false, context: context)
        state = .discarding
    }

    private func dispatch(head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        let responder = self.responder
        context.eventLoop.makeFutureWithTask {
            await responder.respond(to: request)
        }.assumeIsolated().whenSuccess { response in
            self.state = .idle
            self.write(response, version: head.version, requestID: nil, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func write(
        _ response: HTTPResponse, version: HTTPVersion, requestID: String?, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        var headers = response.headers
        headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        if let requestID { headers.replaceOrAdd(name: "x-request-id", value: requestID) }
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.major == 1, version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
