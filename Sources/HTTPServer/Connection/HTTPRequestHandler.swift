import Logging
import NIOCore
import NIOHTTP1

/// Carries out what `RequestLifecycle` decides for one connection: matches each head once
/// (`Responder`), hands complete requests to the responder off the event loop, writes the
/// answers, and cancels the request's work when the client goes away.
///
/// `HTTPServerPipelineHandler` in front of it delivers pipelined requests one by one.
/// A request with a body is checked on its head (route, size, key) before the body is read,
/// and `Expect: 100-continue` is answered only once the head is accepted. Reads are held
/// while the channel is unwritable, so a client that pipelines without reading cannot make
/// the server queue responses without end. A parser error is answered with a 400 problem
/// (NIO's `HTTPServerProtocolErrorHandler` answers with an empty body).
final class HTTPRequestHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var lifecycle: RequestLifecycle
    /// The current request as matched on its head, and the route's verdict on its caller.
    private var matched: Responder.Matched?
    private var admission: Responder.Admission?
    /// The answer to a head its route refused, sent when the request is complete.
    private var headRefusal: HTTPResponse?
    /// The work on the current request (admission, handler, streamed body); cancelled when
    /// the connection closes, which cancels its database statement too.
    private var work: Task<Void, Never>?
    private var rateCheck: RepeatedTask?
    /// The current request's time budget, then the grace its cancelled handler has to stop.
    private var budgetTimer: Scheduled<Void>?
    /// Counts the requests handed to a task, so that an answer that comes back for an
    /// earlier one (after the connection answered for it) is dropped.
    private var requestNumber = 0
    /// A `read()` was held back and is owed to the channel.
    private var readPending = false

    private let responder: Responder
    private let configuration: HTTPServerConfiguration
    private let logger: Logger
    /// The connection's head deadline, told when a head is complete and when the next may start.
    private let timeouts: ConnectionTimeoutHandler

    init(
        responder: Responder, configuration: HTTPServerConfiguration, budget: BodyBudget, logger: Logger,
        timeouts: ConnectionTimeoutHandler
    ) {
        self.responder = responder
        self.configuration = configuration
        self.logger = logger
        self.timeouts = timeouts
        lifecycle = RequestLifecycle(maxBodySize: configuration.maxBodySize, budget: budget)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            timeouts.headReceived()
            matched = nil
            admission = nil
            headRefusal = nil
            switch responder.match(head) {
            case .matched(let request):
                matched = request
                perform(lifecycle.headReceived(head, routeLimit: request.route.maxBodyBytes), context: context)
            case .refused(let response):
                headRefusal = response
                perform(lifecycle.headReceived(head, routeLimit: nil), context: context)
            }
        case .body(var chunk):
            perform(lifecycle.bodyReceived(&chunk), context: context)
        case .end:
            stopRateCheck()
            perform(lifecycle.endReceived(writable: context.channel.isWritable), context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            perform(lifecycle.becameWritable(), context: context)
            resumeReading(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        perform(lifecycle.idle(), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // The parser cannot resynchronise, so the connection ends here; only a response
        // not yet started can still be sent first.
        guard case .refuse = lifecycle.parserFailed() else {
            context.close(promise: nil)
            return
        }
        let problem = Problem.badRequest(
            "The request could not be parsed as HTTP/1.1 (\(error)).", code: "malformed-request")
        let response = responder.record(refusal: problem.response(), head: nil, note: "malformed request")
        write(response, version: .http1_1, keepAlive: false, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    /// The client is gone: its request's work is cancelled and its budget returned.
    private func finish() {
        stopRateCheck()
        budgetTimer?.cancel()
        budgetTimer = nil
        lifecycle.closed()
        work?.cancel()
        work = nil
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if lifecycle.mayRead(writable: context.channel.isWritable) {
            context.read()
        } else {
            readPending = true
        }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readPending, lifecycle.mayRead(writable: context.channel.isWritable) else { return }
        readPending = false
        context.read()
    }

    // MARK: Actions

    private func perform(_ action: RequestLifecycle.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .admit:
            admit(context: context)
        case .receiveBody(let head):
            if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            startRateCheck(context: context)
            resumeReading(context: context)
        case .respond(let head, let body):
            respond(head, body: body, context: context)
        case .refuse(let refusal, let head, let drain):
            refuse(refusal, head: head, drain: drain, context: context)
        case .close:
            context.close(promise: nil)
        }
    }

    /// Finds the caller of a request with a body while the body waits unread. A refusal
    /// is reported one loop turn later: the body parts already read behind the head are
    /// taken first, so that a request sent whole is refused as complete and its
    /// connection stays open.
    private func admit(context: ChannelHandlerContext) {
        guard let matched, headRefusal == nil else {
            deliverVerdict(admitted: false, context: context)
            return
        }
        if let verdict = responder.admitImmediately(matched) {
            admitted(verdict, context: context)
            return
        }
        let responder = self.responder
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound((self, context), eventLoop: eventLoop)
        work = Task {
            let verdict = await responder.admit(matched)
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.admitted(verdict, context: context)
            }
        }
    }

    private func admitted(_ verdict: Responder.Admission, context: ChannelHandlerContext) {
        switch verdict {
        case .admitted:
            admission = verdict
            perform(lifecycle.admitted(true, writable: context.channel.isWritable), context: context)
        case .refused(let response):
            headRefusal = response
            deliverVerdict(admitted: false, context: context)
        }
    }

    private func deliverVerdict(admitted: Bool, context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().execute {
            self.perform(self.lifecycle.admitted(admitted, writable: context.channel.isWritable), context: context)
        }
    }

    /// Answers the complete request at once when the route can (no task), else in a task.
    private func respond(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        if let refusal = headRefusal {
            answer(refusal, head: head, context: context)
            return
        }
        guard let request = matched else { preconditionFailure("a request is answered only once matched") }
        request.request.body = body
        var verdict = admission
        if verdict == nil {  // no body: the route may answer at once
            switch responder.answerImmediately(request) {
            case .answered(let response):
                answer(response, head: head, context: context)
                return
            case .later(let found):
                verdict = found
            }
        }
        let responder = self.responder
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound((self, context), eventLoop: eventLoop)
        let clock = BudgetClock()
        requestNumber += 1
        let number = requestNumber
        work = Task {
            let response = await responder.respond(to: request, admission: verdict, clock: clock)
            eventLoop.execute {
                let (handler, context) = loopBound.value
                guard handler.requestNumber == number, case .responding = handler.lifecycle.state else { return }
                handler.answer(response, head: head, context: context)
            }
        }
        startBudget(clock, head: head, number: number, context: context)
    }

    /// When the request's budget runs out, cancels its work (which then answers 503); a
    /// handler that does not stop within `Self.cancellationGrace` is answered for.
    private func startBudget(_ clock: BudgetClock, head: HTTPRequestHead, number: Int, context: ChannelHandlerContext) {
        let budget = configuration.requestBudget.components
        let nanoseconds = budget.seconds * 1_000_000_000 + budget.attoseconds / 1_000_000_000
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        budgetTimer = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            let (handler, context) = loopBound.value
            guard handler.requestNumber == number else { return }
            clock.expire()
            handler.work?.cancel()
            handler.budgetTimer = context.eventLoop.scheduleTask(in: Self.cancellationGrace) {
                let (handler, context) = loopBound.value
                guard handler.requestNumber == number, case .responding = handler.lifecycle.state else { return }
                handler.requestNumber += 1  // whatever the handler answers later is not this connection's any more
                handler.answer(
                    handler.responder.record(
                        refusal: handler.responder.overBudget.response(), head: head, note: "request over its budget"),
                    head: head, context: context)
            }
        }
    }

    /// How long a cancelled handler may take to stop before the connection answers for it.
    static var cancellationGrace: TimeAmount { .seconds(1) }

    private func answer(_ response: consuming HTTPResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        budgetTimer?.cancel()
        budgetTimer = nil
        if let produce = response.stream {
            stream(response, produce: produce, head: head, context: context)
            return
        }
        work = nil
        lifecycle.responseFinished()
        write(response, version: head.version, keepAlive: head.isKeepAlive, context: context)
        timeouts.awaitingNextHead()
        resumeReading(context: context)
    }

    /// Sends a streamed response with chunked transfer: the producer runs off the event
    /// loop and each of its writes waits until the chunk is handed to the socket, so a
    /// slow client slows the producer instead of filling memory. A producer that fails
    /// midway closes the connection, which the client sees as a truncated body.
    private func stream(
        _ response: HTTPResponse, produce: @escaping BodyStream, head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        lifecycle.streamStarted()
        var headers = response.headers
        headers.remove(name: "content-length")
        headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        if !head.isKeepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
            promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let writer = BodyWriter { chunk in
            try await eventLoop.flatSubmit {
                loopBound.value.1.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk))))
            }.get()
        }
        let logger = self.logger
        work = Task {
            let result: Result<Void, any Error>
            do {
                try await produce(writer)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            eventLoop.execute {
                let (handler, context) = loopBound.value
                guard case .responding = handler.lifecycle.state else { return }
                switch result {
                case .success:
                    handler.work = nil
                    handler.lifecycle.responseFinished()
                    let written = context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
                    if !head.isKeepAlive {
                        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                        return
                    }
                    handler.timeouts.awaitingNextHead()
                    handler.resumeReading(context: context)
                case .failure(let error):
                    logger.warning(
                        "a streamed response failed midway; closing the connection", metadata: ["error": "\(error)"])
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Answers a request without the responder. When the whole request has arrived the
    /// connection carries on; otherwise the rest of its body is dropped (up to the body
    /// limit, for at most `lingerAfterRefusal`) and the connection closes: closing at once
    /// could reset the connection before the client reads the answer.
    private func refuse(
        _ refusal: RequestLifecycle.Refusal, head: HTTPRequestHead, drain: Bool, context: ChannelHandlerContext
    ) {
        stopRateCheck()
        let response =
            headRefusal ?? responder.record(refusal: refusal.response(configuration), head: head, note: refusal.note)
        guard drain else {
            write(response, version: head.version, keepAlive: head.isKeepAlive, context: context)
            timeouts.awaitingNextHead()
            resumeReading(context: context)
            return
        }
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
    static var lingerAfterRefusal: TimeAmount { .seconds(2) }

    // MARK: Body rate

    private func startRateCheck(context: ChannelHandlerContext) {
        let window = configuration.bodyRateWindow
        let minimum = Int(Double(configuration.minBodyBytesPerSecond) * Double(window.nanoseconds) / 1e9)
        guard minimum > 0 else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        rateCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: window, delay: window) { _ in
            let (handler, context) = loopBound.value
            handler.perform(handler.lifecycle.rateWindowEnded(minimum: minimum), context: context)
        }
    }

    private func stopRateCheck() {
        rateCheck?.cancel()
        rateCheck = nil
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
        context.write(
            wrapOutboundOut(
                .head(HTTPResponseHead(version: version, status: response.status, headers: response.headers))),
            promise: nil)
        if length > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if keepAlive || promise != nil {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)  // no future made when nobody waits
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}

extension RequestLifecycle.Refusal {
    /// The answer the connection gives itself.
    func response(_ configuration: HTTPServerConfiguration) -> HTTPResponse {
        switch self {
        case .bodyTooLarge(let limit, let routeLimit):
            Problem(
                status: .payloadTooLarge, code: "body-too-large", title: "Request body too large",
                detail: routeLimit
                    ? "The body exceeds this route's limit of \(limit) bytes."
                    : "The body exceeds the limit of \(limit) bytes; split the batch into smaller requests."
            ).response()
        case .busy:
            Problem(
                status: .serviceUnavailable, code: "server-busy", title: "Server busy",
                detail: "The server is receiving as many request bodies as it holds at once; retry shortly.",
                headers: ["retry-after": "2"]
            ).response()
        case .bodyTooSlow:
            Problem.requestTimeout(
                "The body arrived slower than \(configuration.minBodyBytesPerSecond) bytes a second."
            )
            .response()
        case .requestIncomplete, .answered:
            Problem.requestTimeout("The request was not completed in time.").response()
        }
    }

    /// The request log's note.
    var note: String {
        switch self {
        case .bodyTooLarge: "request refused before its body"
        case .busy: "request refused: body budget spent"
        case .bodyTooSlow: "request refused: body too slow"
        case .requestIncomplete, .answered: "request refused: not completed in time"
        }
    }
}
