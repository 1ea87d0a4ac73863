import Foundation
import Logging
import NIOHTTP1

/// Turns a request into a response: routes it, renders thrown problems, logs the outcome.
struct Responder: Sendable {
    let router: Router
    let policy: RequestPolicy
    let logger: Logger
    let metrics: ServiceMetrics
    let requestLog: RequestLog

    func respond(to incoming: HTTPRequest) async -> HTTPResponse {
        var request = incoming
        let started = ContinuousClock.now
        var response: HTTPResponse
        switch route(request) {
        case .found(let handler, _, let parameters, let pattern):
            request.parameters = parameters
            request.route = pattern
            do {
                response = try await handler(request)
            } catch {
                response = problem(for: error, request: request).response()
            }
        case let unrouted:
            response = Self.unrouted(unrouted, request: request)
        }
        return finish(request, response: response, since: started)
    }

    /// The response when it needs no wait: an unrouted request, or a route whose
    /// immediate handler answers (`/healthz`, a cached registry read). `nil` means the
    /// request goes to `respond(to:)` in a task.
    func respondImmediately(to incoming: HTTPRequest) -> HTTPResponse? {
        var request = incoming
        let started = ContinuousClock.now
        var response: HTTPResponse
        switch route(request) {
        case .found(_, let immediate?, let parameters, let pattern):
            request.parameters = parameters
            request.route = pattern
            do {
                guard let answered = try immediate(request) else { return nil }
                response = answered
            } catch {
                response = problem(for: error, request: request).response()
            }
        case .found:
            return nil
        case let unrouted:
            response = Self.unrouted(unrouted, request: request)
        }
        return finish(request, response: response, since: started)
    }

    /// Tags the response with the request id and records the request.
    private func finish(_ request: HTTPRequest, response: consuming HTTPResponse, since started: ContinuousClock.Instant) -> HTTPResponse {
        response.headers.replaceOrAdd(name: "x-request-id", value: request.id)
        record(request, response: response, since: started)
        return response
    }

    /// The answer to a request no route takes.
    private static func unrouted(_ match: Router.Match, request: HTTPRequest) -> HTTPResponse {
        switch match {
        case .methodNotAllowed(let allowed): methodNotAllowed(request, allowed: allowed).response()
        case .notFound, .found: Problem.notFound("No resource at \(request.path).").response()
        }
    }

    /// The request's log line and metrics.
    func record(_ request: HTTPRequest, response: HTTPResponse, since started: ContinuousClock.Instant, note: String? = nil) {
        let elapsed = ContinuousClock.now - started
        metrics.recordRequest(method: request.method, route: request.route, status: response.status, duration: elapsed)
        let microseconds = Int(elapsed.components.seconds) * 1_000_000 + Int(elapsed.components.attoseconds / 1_000_000_000_000)
        requestLog.record(request, response: response, microseconds: microseconds, note: note)
    }

    /// What the check on a request's head decided.
    enum Admission {
        /// Read the body, up to `maxBodyBytes` when the route sets a limit.
        case admitted(maxBodyBytes: Int?)
        case refused(HTTPResponse)
    }

    /// Checks a request on its head alone, before its body is read: the route must exist
    /// and the policy must admit it.
    func admit(_ incoming: HTTPRequest) async -> Admission {
        var request = incoming
        let started = ContinuousClock.now
        let refusal: Problem
        switch route(request) {
        case .found(_, _, _, let pattern):
            request.route = pattern
            do {
                return .admitted(maxBodyBytes: try await policy.admit(request))
            } catch {
                refusal = problem(for: error, request: request)
            }
        case .methodNotAllowed(let allowed):
            refusal = Self.methodNotAllowed(request, allowed: allowed)
        case .notFound:
            refusal = Problem.notFound("No resource at \(request.path).")
        }
        var response = refusal.response()
        response.headers.replaceOrAdd(name: "x-request-id", value: request.id)
        record(request, response: response, since: started, note: "request refused before its body")
        return .refused(response)
    }

    private func route(_ request: HTTPRequest) -> Router.Match {
        // Only "%00" decodes to NUL in a path; query values arrive decoded.
        if Self.containsEncodedNUL(request.path) || request.query.contains(where: { $0.name.contains("\u{0}") || $0.value.contains("\u{0}") }) {
            return .found(
                { _ in throw Self.nulProblem }, immediate: { _ in throw Self.nulProblem }, parameters: [:], pattern: "malformed")
        }
        return router.match(request.method, path: request.path)
    }

    private static let nulProblem = Problem.badRequest("The path or query contains a NUL character.", code: "malformed-request")

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
        if let problem = policy.problem(error) {
            logger.warning("request refused", metadata: ["error": "\(String(reflecting: error))", "status": "\(problem.status.code)"])
            return problem
        }
        logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
        return Problem(
            status: .internalServerError, code: "internal-error", title: "Internal server error",
            detail: "The server failed; quote request id \(request.id) when reporting it.")
    }

    private static func methodNotAllowed(_ request: HTTPRequest, allowed: [HTTPMethod]) -> Problem {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return Problem(
            status: .methodNotAllowed, code: "method-not-allowed", title: "Method not allowed",
            detail: "\(request.method.rawValue) is not allowed on \(request.path); use \(list).",
            headers: ["allow": list])
    }
}
