import HTTPServer
import Logging

/// What a handler knows of its request besides the request itself: who calls, a logger
/// that names the request, and the route's path parameters.
public struct RequestContext: Sendable {
    /// The caller behind the key; `nil` only on a public route.
    let authenticated: Caller?
    /// The app's logger; `logger` attaches the request id.
    let baseLogger: Logger
    /// Echoed as `X-Request-Id`; quoted in logs and in 500s.
    let requestID: String
    /// The values of the route's `{name}` segments.
    let parameters: PathParameters

    /// Logs with the request's id attached (made on use, so a request that logs nothing pays nothing).
    var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request_id"] = "\(requestID)"
        return logger
    }

    /// The context of a matched request whose route admitted `caller`.
    init(of request: HTTPRequest, caller: Caller?, logger: Logger) {
        authenticated = caller
        baseLogger = logger
        requestID = request.id
        parameters = PathParameters(values: request.parameters)
    }

    /// The caller of a route that takes a key (every route but the public ones).
    var caller: Caller {
        guard let authenticated else { preconditionFailure("a public route has no caller") }
        return authenticated
    }
}

/// The values of a route's `{name}` segments, read by name.
struct PathParameters: Sendable {
    let values: [String: String]

    /// A parameter the route's pattern declares; a missing one is a routing bug.
    func require(_ name: String) -> String {
        guard let value = values[name] else { preconditionFailure("the route has no parameter named \(name)") }
        return value
    }

    /// A numeric id (a positive whole number); any other text names nothing, so it is a
    /// 404 that says "No `thing` …".
    func requireID(_ name: String, of thing: String) throws -> Int {
        let text = require(name)
        guard let id = Int(text), id > 0 else { throw Problem.notFound("No \(thing) \(text).") }
        return id
    }
}
