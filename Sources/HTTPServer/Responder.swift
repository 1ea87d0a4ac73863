import Foundation
import Logging
import NIOHTTP1

/// Turns a request into a response: routes it, renders thrown problems, logs the outcome.
struct Responder: Sendable {
    let router: Router
    let logger: Logger

    func respond(to incoming: HTTPRequest) async -> HTTPResponse {
        var request = incoming
        var logger = self.logger
        logger[metadataKey: "request_id"] = "\(request.id)"
        let started = ContinuousClock.now
        var response: HTTPResponse
        let match: Router.Match
        // Only "%00" decodes to NUL in a path; query values arrive decoded.
        if request.path.contains("%00") || request.query.contains(where: { $0.name.contains("\u{0}") || $0.value.contains("\u{0}") }) {
            match = .found({ _ in throw Problem.badRequest("The path or query contains a NUL character.", code: "malformed-request") }, parameters: [:])
        } else {
            match = router.match(request.method, path: request.path)
        }
        switch match {
        case .found(let handler, let parameters):
            request.parameters = parameters
            do {
                response = try await handler(request)
            } catch let problem as Problem {
                response = problem.response()
            } catch {
                logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
                response = Problem(
                    status: .internalServerError, code: "internal-error", title: "Internal server error",
                    detail: "The server failed; quote request id \(request.id) when reporting it."
                ).response()
            }
        case .methodNotAllowed(let allowed):
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            response = Problem(
                status: .methodNotAllowed, code: "method-not-allowed", title: "Method not allowed",
                detail: "\(request.method.rawValue) is not allowed on \(request.path); use \(list).",
                headers: ["allow": list]
            ).response()
        case .notFound:
            response = Problem.notFound("No resource at \(request.path).").response()
        }
        response.headers.replaceOrAdd(name: "x-request-id", value: request.id)
        let elapsed = ContinuousClock.now - started
        logger.info(
            "\(request.method.rawValue) \(request.path) \(response.status.code)",
            metadata: ["duration_ms": "\((elapsed / .microseconds(1)).rounded() / 1000)"])
        return response
    }
}
