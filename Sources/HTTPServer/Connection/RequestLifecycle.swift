import NIOCore
import NIOHTTP1

/// The life of the requests on one connection, as a value: the handler reports what
/// happened (a head, a body chunk, a timer, the route's verdict) and does what it is told.
///
/// Modelled on NIO's `HTTPServerPipelineHandler`: no channel in here, so every path (a body
/// over its limit, a slow body, an admitted head whose body was already read, a refusal
/// that drains the rest) is tested without sockets (`RequestLifecycleTests`). One request
/// is in flight at a time: the pipelining handler in front delivers them one by one.
struct RequestLifecycle {
    enum State: Equatable {
        /// Between requests.
        case idle
        /// The head of a request with a body is being checked; reads are held meanwhile.
        case admitting(HTTPRequestHead)
        /// Reading an admitted request's body.
        case receiving(HTTPRequestHead)
        /// Complete, but the client is not reading earlier responses: waits for writability.
        case awaitingWritability(HTTPRequestHead)
        /// The responder is working on the request, or its response is being streamed.
        case responding(HTTPRequestHead)
        /// Refused and answered; up to `remaining` more body bytes are dropped, then the connection closes.
        case refusing(remaining: Int)
        /// The channel is gone, or is closing.
        case closed
    }

    /// What the handler must do next.
    enum Action {
        /// Nothing.
        case none
        /// Find the request's context; the verdict comes back as `admitted(_:)`.
        case admit(HTTPRequestHead)
        /// The head is admitted: answer `Expect: 100-continue` if asked, start the body-rate clock.
        case receiveBody(HTTPRequestHead)
        /// The request is complete: answer it with this body.
        case respond(HTTPRequestHead, body: ByteBuffer)
        /// Answer without the responder. `drain`: the body is not all read, so the rest is
        /// dropped for a while and the connection closes; otherwise it carries on.
        case refuse(Refusal, HTTPRequestHead, drain: Bool)
        /// Close the connection now.
        case close
    }

    /// Why a request is refused by the connection itself.
    enum Refusal: Equatable {
        case bodyTooLarge(limit: Int, routeLimit: Bool)
        case busy
        case bodyTooSlow
        case requestIncomplete
        /// The route refused it (unrouted, unauthorised…); the answer is made already.
        case answered
    }

    let maxBodySize: Int
    let budget: BodyBudget
    private(set) var state = State.idle
    /// The body of the current request.
    private(set) var body = ByteBuffer()
    /// The current request's `.end` arrived while its head was still being checked.
    private var requestEnded = false
    /// The current request's body limit: the server's, or its route's when smaller.
    private(set) var bodyLimit: Int
    /// Bytes of the `BodyBudget` the current request holds.
    private(set) var reserved = 0
    /// Body bytes received since the rate was last checked.
    private var receivedInWindow = 0
    /// A streamed response's head is written and its end is not.
    private(set) var hasUnterminatedResponse = false

    init(maxBodySize: Int, budget: BodyBudget) {
        self.maxBodySize = maxBodySize
        self.budget = budget
        bodyLimit = maxBodySize
    }

    // MARK: Events from the client

    /// A head arrived and was matched; `routeLimit` is its route's body limit, if any.
    mutating func headReceived(_ head: HTTPRequestHead, routeLimit: Int?) -> Action {
        guard case .idle = state else { return state == .closed ? .none : .close }
        body = ByteBuffer()
        requestEnded = false
        bodyLimit = min(maxBodySize, routeLimit ?? .max)
        if let length = head.contentLength, length > bodyLimit {
            return refuse(tooLarge, head, drain: true)
        }
        if head.hasBody {
            state = .admitting(head)
            return .admit(head)
        }
        state = .receiving(head)
        return .none
    }

    /// Part of the body arrived.
    mutating func bodyReceived(_ chunk: inout ByteBuffer) -> Action {
        switch state {
        case .admitting:
            body.writeBuffer(&chunk)  // read before reads were held; bounded by one read
            return .none
        case .receiving(let head):
            guard body.readableBytes + chunk.readableBytes <= bodyLimit else {
                return refuse(tooLarge, head, drain: true)
            }
            if head.contentLength == nil {  // chunked: reserve as it comes
                guard budget.reserve(chunk.readableBytes) else { return refuse(.busy, head, drain: true) }
                reserved += chunk.readableBytes
            }
            receivedInWindow += chunk.readableBytes
            body.writeBuffer(&chunk)
            return .none
        case .refusing(let remaining):
            guard chunk.readableBytes <= remaining else {
                state = .closed
                return .close
            }
            state = .refusing(remaining: remaining - chunk.readableBytes)
            return .none
        case .idle, .awaitingWritability, .responding, .closed:
            return .none
        }
    }

    /// The request's end arrived; `writable`: the client reads what it is sent.
    mutating func endReceived(writable: Bool) -> Action {
        switch state {
        case .admitting:
            requestEnded = true
            return .none
        case .receiving(let head):
            return complete(head, writable: writable)
        case .refusing:
            state = .closed
            return .close
        case .idle, .awaitingWritability, .responding, .closed:
            return .none
        }
    }

    /// The route's verdict on a head with a body; `admitted`: the caller may go on.
    mutating func admitted(_ admitted: Bool, writable: Bool) -> Action {
        guard case .admitting(let head) = state else { return .none }  // the connection closed meanwhile
        guard admitted else { return refuse(.answered, head, drain: !requestEnded) }
        guard max(head.contentLength ?? 0, body.readableBytes) <= bodyLimit else {
            return refuse(tooLarge, head, drain: !requestEnded)
        }
        let declared = head.contentLength ?? body.readableBytes
        guard budget.reserve(declared) else { return refuse(.busy, head, drain: !requestEnded) }
        reserved = declared
        if let length = head.contentLength { body.reserveCapacity(length) }
        if requestEnded { return complete(head, writable: writable) }
        state = .receiving(head)
        receivedInWindow = 0
        return .receiveBody(head)
    }

    /// The client reads again.
    mutating func becameWritable() -> Action {
        guard case .awaitingWritability(let head) = state else { return .none }
        return start(head)
    }

    // MARK: Timers

    /// The body-rate window ended; fewer than `minimum` bytes in it is a 408.
    mutating func rateWindowEnded(minimum: Int) -> Action {
        guard case .receiving(let head) = state else { return .none }
        defer { receivedInWindow = 0 }
        return receivedInWindow < minimum ? refuse(.bodyTooSlow, head, drain: true) : .none
    }

    /// Nothing arrived for the idle timeout.
    mutating func idle() -> Action {
        switch state {
        case .idle, .refusing, .awaitingWritability:
            state = .closed
            return .close
        case .receiving(let head):
            return refuse(.requestIncomplete, head, drain: true)
        case .admitting, .responding, .closed:
            return .none  // the server is the slow one; the client is waiting for us
        }
    }

    // MARK: Events from the server

    /// A streamed response's head is written.
    mutating func streamStarted() {
        releaseBudget()
        hasUnterminatedResponse = true
    }

    /// The response is written in full: the next request may come.
    mutating func responseFinished() {
        guard case .responding = state else { return }
        releaseBudget()
        hasUnterminatedResponse = false
        state = .idle
    }

    /// The parser failed: a 400 is owed unless a response is under way.
    mutating func parserFailed() -> Action {
        defer { state = .closed }
        if hasUnterminatedResponse || state == .closed { return .close }
        return .refuse(.answered, HTTPRequestHead(version: .http1_1, method: .GET, uri: "-"), drain: false)
    }

    /// The channel closed: the request's share of the budget goes back.
    mutating func closed() {
        releaseBudget()
        state = .closed
    }

    /// Whether the handler may read more from the socket.
    func mayRead(writable: Bool) -> Bool {
        switch state {
        case .admitting, .awaitingWritability: false
        case .refusing, .closed: true
        case .idle, .receiving, .responding: writable
        }
    }

    // MARK: Steps

    private mutating func complete(_ head: HTTPRequestHead, writable: Bool) -> Action {
        guard writable else {
            state = .awaitingWritability(head)
            return .none
        }
        return start(head)
    }

    private mutating func start(_ head: HTTPRequestHead) -> Action {
        state = .responding(head)
        defer { body = ByteBuffer() }
        return .respond(head, body: body)
    }

    private mutating func refuse(_ refusal: Refusal, _ head: HTTPRequestHead, drain: Bool) -> Action {
        releaseBudget()
        body = ByteBuffer()
        state = drain ? .refusing(remaining: maxBodySize) : .idle
        return .refuse(refusal, head, drain: drain)
    }

    private var tooLarge: Refusal { .bodyTooLarge(limit: bodyLimit, routeLimit: bodyLimit < maxBodySize) }

    private mutating func releaseBudget() {
        budget.release(reserved)
        reserved = 0
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
