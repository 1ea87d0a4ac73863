import Logging
import NIOCore
import NIOHTTP1

/// Collects one request at a time, hands it to the responder off the event loop, and
/// writes the response back, within limits no client can push the server past.
///
/// `HTTPServerPipelineHandler` in front of it delivers pipelined requests one by one,
/// so this handler only ever has one request in flight. On top of that it:
/// - checks a request that carries a body on its head alone (route, size, key) and
///   refuses it before reading the body; answers `Expect: 100-continue` only once the
///   head is accepted;
/// - reserves the body's bytes in the server-wide `BodyBudget` (503 when it is spent);
/// - holds reads, and the next request, while the channel is unwritable, so a client
///   that pipelines without reading cannot make the server queue responses without end;
/// - answers 408 to a body slower than the minimum rate or a request gone silent.
final class HTTPRequestHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// The head of a request with a body is being checked; reads are held meanwhile.
        case admitting(HTTPRequestHead)
        /// Reading an accepted request's body.
        case receiving(HTTPRequestHead)
        /// Complete, but the client is not reading earlier responses: waits for writability.
        case awaitingWritability(HTTPRequestHead)
        /// The responder is working on a request.
        case responding
        /// Refused and answered; up to `remaining` more body bytes are dropped, then the connection closes.
        case refusing(remaining: Int)
        /// The channel is gone.
        case closed
    }

    private var state = State.idle
    /// The body of the current request; kept outside `state` so appending never copies it.
    private var body = ByteBuffer()
    /// The current request's `.end` arrived while its head was still being checked.
    private var requestEnded = false
    /// The current request's body limit: the server's, or its route's when smaller.
    private var bodyLimit = 0
    /// Bytes of the `BodyBudget` the current request holds.
    private var reserved = 0
    /// Body bytes received since the rate was last checked.
    private var receivedInWindow = 0
    private var rateCheck: RepeatedTask?
    /// A `read()` was held back and is owed to the channel.
    private var readPending = false

    /// A streamed response's head is written and its end is not (`MalformedRequestHandler` asks).
    private(set) var hasUnterminatedResponse = false

    private let responder: Responder
    private let configuration: HTTPServerConfiguration
    private let budget: BodyBudget
    private let logger: Logger
    /// The connection's head deadline, told when a head is complete and when the next may start.
    private let timeouts: ConnectionTimeoutHandler

    init(
        responder: Responder, configuration: HTTPServerConfiguration, budget: BodyBudget, logger: Logger,
        timeouts: ConnectionTimeoutHandler
    ) {
        self.responder = responder
        self.configuration = configuration
        self.budget = budget
        self.logger = logger
        self.timeouts = timeouts
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            timeouts.headReceived()
            body = ByteBuffer()
            requestEnded = false
            bodyLimit = configuration.maxBodySize
            if let length = head.contentLength, length > bodyLimit {
                refuse(tooLarge(), head: head, requestEnded: false, context: context)
            } else if head.hasBody {
                admit(head, context: context)
            } else {
                state = .receiving(head)
            }
        case (.body(var chunk), .admitting):
            body.writeBuffer(&chunk)  // read before reads were held; bounded by one read
        case (.end, .admitting):
            requestEnded = true
        case (.body(var chunk), .receiving(let head)):
            guard body.readableBytes + chunk.readableBytes <= bodyLimit else {
                refuse(tooLarge(), head: head, requestEnded: false, context: context)
                return
            }
            if head.contentLength == nil {  // chunked: reserve as it comes
                guard budget.reserve(chunk.readableBytes) else {
                    refuse(busy(), head: head, requestEnded: false, context: context)
                    return
                }
                reserved += chunk.readableBytes
            }
            receivedInWindow += chunk.readableBytes
            body.writeBuffer(&chunk)
        case (.end, .receiving(let head)):
            stopRateCheck()
            respondWhenWritable(head, context: context)
        case (.body(let chunk), .refusing(let remaining)):
            if chunk.readableBytes > remaining {
                context.close(promise: nil)
            } else {
                state = .refusing(remaining: remaining - chunk.readableBytes)
            }
        case (.end, .refusing):
            context.close(promise: nil)
        case (_, .closed):
            break
        case (let part, let state):
            preconditionFailure("request part \(part) out of order in state \(state)")
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if case .awaitingWritability(let head) = state { dispatch(head, context: context) }
            resumeReading(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .idle, .refusing, .awaitingWritability:
            context.close(promise: nil)
        case .receiving(let head):
            refuse(timeout("The request was not completed in time."), head: head, requestEnded: false, context: context)
        case .admitting, .responding, .closed:
            break  // the server is the slow one; the client is waiting for us
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishRequest()
        state = .closed
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finishRequest()
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if mayRead(context: context) {
            context.read()
        } else {
            readPending = true
        }
    }

    private func mayRead(context: ChannelHandlerContext) -> Bool {
        switch state {
        case .admitting, .awaitingWritability:
            return false
        case .refusing, .closed:
            return true
        case .idle, .receiving, .responding:
            return context.channel.isWritable
        }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readPending, mayRead(context: context) else { return }
        readPending = false
        context.read()
    }

    // MARK: Steps

    /// Checks the head (route, key) off the event loop; the body waits unread.
    private func admit(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .admitting(head)
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers)
        let responder = self.responder
        context.eventLoop.runRequestTask {
            await responder.admit(request)
        }.assumeIsolated().whenSuccess { admission in
            // One loop turn later: the body parts already read behind the head are taken
            // first, so that a request sent whole is refused as complete and its connection
            // stays open.
            context.eventLoop.assumeIsolated().execute {
                self.admitted(head, admission, context: context)
            }
        }
    }

    private func admitted(_ head: HTTPRequestHead, _ admission: Responder.Admission, context: ChannelHandlerContext) {
        guard case .admitting = state else { return }  // the connection closed meanwhile
        switch admission {
        case .refused(let refusal):
            refuse(refusal, head: head, requestEnded: requestEnded, context: context)
            return
        case .admitted(let routeLimit):
            bodyLimit = min(configuration.maxBodySize, routeLimit ?? .max)
        }
        guard max(head.contentLength ?? 0, body.readableBytes) <= bodyLimit else {
            refuse(tooLarge(), head: head, requestEnded: requestEnded, context: context)
            return
        }
        let declared = head.contentLength ?? body.readableBytes
        guard budget.reserve(declared) else {
            refuse(busy(), head: head, requestEnded: requestEnded, context: context)
            return
        }
        reserved = declared
        if let length = head.contentLength { body.reserveCapacity(length) }
        if requestEnded {
            respondWhenWritable(head, context: context)
            return
        }
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        state = .receiving(head)
        startRateCheck(head, context: context)
        resumeReading(context: context)
    }

    private func respondWhenWritable(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        if context.channel.isWritable {
            dispatch(head, context: context)
        } else {
            state = .awaitingWritability(head)
        }
    }

    /// Answers the request at once when the responder can (no task, no promise), else in
    /// a task on this loop.
    private func dispatch(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .responding
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
        body = ByteBuffer()
        if let response = responder.respondImmediately(to: request) {
            answer(response, head: head, context: context)
            return
        }
        let responder = self.responder
        context.eventLoop.runRequestTask {
            await responder.respond(to: request)
        }.assumeIsolated().whenSuccess { response in
            guard case .responding = self.state else { return }
            self.answer(response, head: head, context: context)
        }
    }

    private func answer(_ response: consuming HTTPResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        if let produce = response.stream {
            stream(response, produce: produce, head: head, context: context)
            return
        }
        finishRequest()
        state = .idle
        write(response, version: head.version, keepAlive: head.isKeepAlive, context: context)
        timeouts.awaitingNextHead()
        resumeReading(context: context)
    }

    /// Sends a streamed response with chunked transfer: the producer runs off the event
    /// loop and each of its writes waits until the chunk is handed to the socket, so a
    /// slow client slows the producer instead of filling memory. A producer that fails
    /// midway closes the connection, which the client sees as a truncated body.
    private func stream(_ response: HTTPResponse, produce: @escaping BodyStream, head: HTTPRequestHead, context: ChannelHandlerContext) {
        finishRequest()
        var headers = response.headers
        headers.remove(name: "content-length")
        headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        if !head.isKeepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        hasUnterminatedResponse = true
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound(context, eventLoop: eventLoop)
        let writer = BodyWriter { chunk in
            try await eventLoop.flatSubmit {
                loopBound.value.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk))))
            }.get()
        }
        let logger = self.logger
        eventLoop.makeFutureWithTask {
            try await produce(writer)
        }.assumeIsolated().whenComplete { result in
            guard case .responding = self.state else { return }
            switch result {
            case .success:
                self.state = .idle
                self.hasUnterminatedResponse = false
                let written = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
                if !head.isKeepAlive {
                    written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                    return
                }
                self.timeouts.awaitingNextHead()
                self.resumeReading(context: context)
            case .failure(let error):
                logger.warning("a streamed response failed midway; closing the connection", metadata: ["error": "\(error)"])
                context.close(promise: nil)
            }
        }
    }

    /// Answers a request without handing it to the responder. When the whole request has
    /// arrived the connection carries on; otherwise the rest of its body is dropped (up to
    /// the body limit, for at most `lingerAfterRefusal`) and the connection closes:
    /// closing at once could reset the connection before the client reads the answer.
    private func refuse(_ response: HTTPResponse, head: HTTPRequestHead, requestEnded: Bool, context: ChannelHandlerContext) {
        finishRequest()
        body = ByteBuffer()
        var response = response
        if response.headers["x-request-id"].isEmpty {
            response.headers.add(name: "x-request-id", value: HTTPRequest(method: head.method, uri: head.uri, headers: head.headers).id)
        }
        if requestEnded {
            state = .idle
            write(response, version: head.version, keepAlive: head.isKeepAlive, context: context)
            timeouts.awaitingNextHead()
            resumeReading(context: context)
            return
        }
        state = .refusing(remaining: configuration.maxBodySize)
        let written = context.eventLoop.makePromise(of: Void.self)
        write(response, version: head.version, keepAlive: false, context: context, promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in
            context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.lingerAfterRefusal) {
            loopBound.value.close(promise: nil)
        }
        resumeReading(context: context)
    }

    /// How long a refused request's body is drained before the connection closes anyway.
    static let lingerAfterRefusal = TimeAmount.seconds(2)

    /// Returns the request's share of the budget and stops its timers.
    private func finishRequest() {
        stopRateCheck()
        budget.release(reserved)
        reserved = 0
    }

    // MARK: Body rate

    private func startRateCheck(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let window = configuration.bodyRateWindow
        let minimum = Int(Double(configuration.minBodyBytesPerSecond) * Double(window.nanoseconds) / 1e9)
        guard minimum > 0 else { return }
        receivedInWindow = 0
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        rateCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: window, delay: window) { _ in
            let (handler, context) = loopBound.value
            guard case .receiving = handler.state else { return }
            if handler.receivedInWindow < minimum {
                handler.refuse(
                    handler.timeout("The body arrived slower than \(handler.configuration.minBodyBytesPerSecond) bytes a second."),
                    head: head, requestEnded: false, context: context)
            }
            handler.receivedInWindow = 0
        }
    }

    private func stopRateCheck() {
        rateCheck?.cancel()
        rateCheck = nil
    }

    // MARK: Responses

    private func tooLarge() -> HTTPResponse {
        Problem(
            status: .payloadTooLarge, code: "body-too-large", title: "Request body too large",
            detail: bodyLimit < configuration.maxBodySize
                ? "The body exceeds this route's limit of \(bodyLimit) bytes."
                : "The body exceeds the limit of \(bodyLimit) bytes; split the batch into smaller requests."
        ).response()
    }

    private func busy() -> HTTPResponse {
        Problem(
            status: .serviceUnavailable, code: "server-busy", title: "Server busy",
            detail: "The server is receiving as many request bodies as it holds at once; retry shortly.",
            headers: ["retry-after": "2"]
        ).response()
    }

    private func timeout(_ detail: String) -> HTTPResponse {
        Problem(status: .requestTimeout, code: "request-timeout", title: "Request timeout", detail: detail).response()
    }

    /// Writes a whole response. A connection that is not kept alive closes once it is
    /// written, unless `promise` is given: then the caller decides.
    private func write(
        _ response: consuming HTTPResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext,
        promise: EventLoopPromise<Void>? = nil
    ) {
        let length = response.body.readableBytes
        // Mutated in place: the response is this function's own, so its headers are not copied.
        response.headers.replaceOrAdd(name: "content-length", value: String(length))
        if !keepAlive {
            response.headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.major == 1, version.minor == 0 {
            response.headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: response.headers))), promise: nil)
        if length > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if keepAlive || promise != nil {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)  // no future made when nobody waits
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

extension HTTPRequestHead {
    /// The declared `Content-Length`, when there is one.
    var contentLength: Int? {
        headers.first(name: "content-length").flatMap { Int($0) }
    }

    /// Whether a body follows the head (a positive length, or chunked).
    var hasBody: Bool {
        if let length = contentLength { return length > 0 }
        return headers.contains(name: "transfer-encoding")
    }
}
