import Logging
import NIOConcurrencyHelpers
import NIOHTTP1

/// Turns requests into responses: matches each head to its route once, finds its context
/// once, runs the handler, translates what it throws into a problem in one place, and
/// records every answer (log line and metrics), refusals and timeouts included.
struct Responder: Sendable {
    let routes: Routes
    /// Turns an error a handler threw into the answer a client can act on; anything it
    /// does not recognise is a logged 500.
    let problems: @Sendable (any Error) -> Problem?
    let logger: Logger
    let metrics: ServiceMetrics
    let requestLog: RequestLog
    /// How long a handler may work on a request before it is cancelled (503).
    let budget: Duration

    /// A request matched to its route on its head, its query checked and its
    /// representation chosen; the body is added when it has arrived.
    ///
    /// A class, so that handing it from the head to the task that answers copies one
    /// reference, not every field of the request. `request` is written only on the
    /// connection's event loop (the body, once complete), before the task that reads it
    /// is created.
    final class Matched: @unchecked Sendable {
        var request: HTTPRequest
        let route: Route
        let started: ContinuousClock.Instant

        init(request: HTTPRequest, route: Route, started: ContinuousClock.Instant) {
            self.request = request
            self.route = route
            self.started = started
        }
    }

    /// What a request's head decided.
    enum Head: Sendable {
        case matched(Matched)
        /// Answered already (recorded): unrouted, a bad query, nothing acceptable.
        case refused(HTTPResponse)
    }

    /// Whether the route admits the request's caller.
    enum Admission: Sendable {
        /// The route's handlers, bound to the request's context.
        case admitted(BoundHandlers)
        /// Answered already (recorded).
        case refused(HTTPResponse)
    }

    /// Matches the head to a route and checks its query and `Accept`, once.
    func match(_ head: HTTPRequestHead) -> Head {
        var request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers)
        let started = ContinuousClock.now
        let problem: Problem
        if Self.containsEncodedNUL(request.path)
            || request.query.contains(where: { $0.name.contains("\u{0}") || $0.value.contains("\u{0}") })
        {
            // Only "%00" decodes to NUL in a path; query values arrive decoded.
            request.route = "malformed"
            problem = Problem.badRequest("The path or query contains a NUL character.", code: "malformed-request")
        } else {
            switch routes.match(request.method, path: request.path) {
            case .found(let route, let parameters):
                request.parameters = parameters
                request.route = route.pattern
                do {
                    try route.contract.admit(&request, method: route.method, pattern: route.pattern)
                    return .matched(Matched(request: request, route: route, started: started))
                } catch {
                    problem = self.problem(for: error, request: request)
                }
            case .methodNotAllowed(let allowed):
                problem = Self.methodNotAllowed(request, allowed: allowed)
            case .notFound:
                problem = Problem.notFound("No resource at \(request.path).")
            }
        }
        return .refused(finish(request, response: problem.response(), since: started))
    }

    /// The request's context when it is at hand without a wait; `nil` when it needs one.
    func admitImmediately(_ matched: Matched) -> Admission? {
        do {
            guard let handlers = try matched.route.admitImmediately(matched.request) else { return nil }
            return .admitted(handlers)
        } catch {
            return .refused(refusal(error, matched))
        }
    }

    /// The request's context, waiting for it if need be.
    func admit(_ matched: Matched) async -> Admission {
        do {
            return .admitted(try await matched.route.admit(matched.request))
        } catch {
            return .refused(refusal(error, matched))
        }
    }

    private func refusal(_ error: any Error, _ matched: Matched) -> HTTPResponse {
        finish(
            matched.request, response: problem(for: error, request: matched.request).response(), since: matched.started)
    }

    /// What a request without a body gets without a wait.
    enum Immediately: Sendable {
        /// Its answer (recorded).
        case answered(HTTPResponse)
        /// Nothing yet: the answer needs a task, with the caller found already or not.
        case later(Admission?)
    }

    /// Finds the caller and answers without waiting as far as the route can.
    func answerImmediately(_ matched: Matched) -> Immediately {
        let response: HTTPResponse
        do {
            switch try matched.route.answerImmediately(matched.request) {
            case .answered(let answered): response = matched.route.contract.varied(answered)
            case .admitted(let handlers): return .later(.admitted(handlers))
            case .undecided: return .later(nil)
            }
        } catch {
            response = problem(for: error, request: matched.request).response()
        }
        return .answered(finish(matched.request, response: response, since: matched.started))
    }

    /// Finds the context if `admission` has not, then runs the handler. The connection
    /// cancels the task when the client leaves or when `clock`'s budget runs out.
    /// A handler cancelled because its client left gets no answer worth sending; the
    /// caller drops it.
    func respond(to matched: Matched, admission: Admission?, clock: BudgetClock) async -> HTTPResponse {
        let handlers: BoundHandlers
        switch admission {
        case .admitted(let bound): handlers = bound
        case .refused(let response): return response
        case nil:
            switch await admit(matched) {
            case .admitted(let bound): handlers = bound
            case .refused(let response): return response
            }
        }
        let response: HTTPResponse
        do {
            let answered = try await handlers.respond(matched.request)
            response = matched.route.contract.varied(answered)
        } catch {
            response = problem(for: clock.isExpired ? BudgetExceeded() : error, request: matched.request).response()
        }
        return finish(matched.request, response: response, since: matched.started)
    }

    /// Records an answer the connection gave without a handler (a body too large or too
    /// slow, a busy server, a malformed request, a head that never completed).
    func record(refusal response: HTTPResponse, head: HTTPRequestHead?, note: String) -> HTTPResponse {
        var request =
            head.map { HTTPRequest(method: $0.method, uri: $0.uri, headers: $0.headers) }
            ?? HTTPRequest(method: .GET, uri: "-")
        if head != nil, case .found(let route, _) = routes.match(request.method, path: request.path) {
            request.route = route.pattern
        }
        var response = response
        response.headers.replaceOrAdd(name: "x-request-id", value: request.id)
        record(request, response: response, since: .now, note: note)
        return response
    }

    /// Tags the response with the request id and records the request.
    private func finish(
        _ request: HTTPRequest, response: consuming HTTPResponse, since started: ContinuousClock.Instant
    ) -> HTTPResponse {
        response.headers.replaceOrAdd(name: "x-request-id", value: request.id)
        record(request, response: response, since: started)
        return response
    }

    /// The request's log line and metrics.
    private func record(
        _ request: HTTPRequest, response: HTTPResponse, since started: ContinuousClock.Instant, note: String? = nil
    ) {
        let elapsed = ContinuousClock.now - started
        metrics.recordRequest(method: request.method, route: request.route, status: response.status, duration: elapsed)
        let microseconds =
            Int(elapsed.components.seconds) * 1_000_000 + Int(elapsed.components.attoseconds / 1_000_000_000_000)
        requestLog.record(request, response: response, microseconds: microseconds, note: note)
    }

    /// Whether `path` contains `%00` (Foundation's `contains` on strings searched through
    /// CFString, a few percent of `/healthz`).
    static func containsEncodedNUL(_ path: String) -> Bool {
        var matched = 0
        for byte in path.utf8 {
            switch (matched, byte) {
            case (_, UInt8(ascii: "%")): matched = 1
            case (1, UInt8(ascii: "0")): matched = 2
            case (2, UInt8(ascii: "0")): return true
            default: matched = 0
            }
        }
        return false
    }

    /// The problem a thrown error stands for; what nobody recognises is a logged 500.
    private func problem(for error: any Error, request: HTTPRequest) -> Problem {
        if let problem = error as? Problem { return problem }
        var logger = self.logger
        logger[metadataKey: "request_id"] = "\(request.id)"
        if error is BudgetExceeded {
            logger.warning("request over its time budget; cancelled", metadata: ["budget": "\(budget)"])
            return overBudget
        }
        if let problem = problems(error) {
            logger.warning(
                "request refused",
                metadata: ["error": "\(String(reflecting: error))", "status": "\(problem.status.code)"])
            return problem
        }
        logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
        return Problem(
            status: .internalServerError, code: "internal-error", title: "Internal server error",
            detail: "The server failed; quote request id \(request.id) when reporting it.")
    }

    /// The answer to a request its handler did not finish within the budget.
    var overBudget: Problem {
        .budgetExceeded(
            "The request was stopped after \(budget.components.seconds) seconds, the most the server spends on one request"
        )
    }

    private static func methodNotAllowed(_ request: HTTPRequest, allowed: [HTTPMethod]) -> Problem {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return Problem(
            status: .methodNotAllowed, code: "method-not-allowed", title: "Method not allowed",
            detail: "\(request.method.rawValue) is not allowed on \(request.path); use \(list).",
            headers: ["allow": list])
    }
}

/// A handler ran past the server's request budget and was cancelled.
private struct BudgetExceeded: Error {}

/// Whether a request's time budget ran out: the connection's timer sets it before it
/// cancels the request's task, so that the error the cancelled handler throws is answered
/// as the budget's 503 rather than as whatever the cancellation broke.
final class BudgetClock: Sendable {
    private let exceeded = NIOLockedValueBox(false)

    /// The budget ran out.
    func expire() { exceeded.withLockedValue { $0 = true } }

    var isExpired: Bool { exceeded.withLockedValue { $0 } }
}
