import BackboneCore
import HTTPServer
import Logging
import NIOHTTP1

/// Backbone's routes, each declared with who may call it (`Access`). Wraps the server's
/// `Router`: every handler gets its caller checked and a `RequestContext` built here, in
/// one place, and the head-of-request policy reads the same declarations.
struct RouteTable: Sendable {
    typealias Handler = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse
    /// Answers without waiting or returns `nil` (see `Router.ImmediateHandler`); it runs
    /// only when the caller's key is cached.
    typealias ImmediateHandler = @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse?

    private(set) var router = Router()
    /// Each route's access by "METHOD pattern", for the check on a request's head.
    private(set) var access: [String: Access] = [:]
    /// The body limits of routes that take less than the server's `maxBodySize`, by "METHOD pattern".
    private(set) var bodyLimits: [String: Int] = [:]
    let authenticator: Authenticator
    let logger: Logger

    init(authenticator: Authenticator, logger: Logger) {
        self.authenticator = authenticator
        self.logger = logger
    }

    /// Adds a route (see `Router.add` for `query` and `offers`) that `access` guards; one
    /// with an `immediate` handler tries it first, inside the event loop's read.
    mutating func add(
        _ method: HTTPMethod, _ pattern: String, _ access: Access, query: [String] = [], offers: [Representation] = [.json],
        immediate: ImmediateHandler? = nil, _ handler: @escaping Handler
    ) {
        self.access[Self.key(method, pattern)] = access
        let authenticator = self.authenticator
        let logger = self.logger
        var answerImmediately: Router.ImmediateHandler?
        if let immediate {
            answerImmediately = { request in
                var caller: Caller?
                if access != .public {
                    guard let cached = try authenticator.cachedCaller(of: request) else { return nil }
                    caller = cached
                }
                let context = try Self.context(of: request, caller: caller, access: access, logger: logger)
                do {
                    return try immediate(request, context)
                } catch let error as DomainError {
                    throw Problem(error)
                }
            }
        }
        router.add(method, pattern, query: query, offers: offers, immediate: answerImmediately) { request in
            let caller = access == .public ? nil : try await authenticator.caller(of: request)
            let context = try Self.context(of: request, caller: caller, access: access, logger: logger)
            do {
                return try await handler(request, context)
            } catch let error as DomainError {
                throw Problem(error)
            }
        }
    }

    /// Adds a route that always answers without waiting (`/healthz`).
    mutating func getImmediately(_ pattern: String, _ access: Access, _ answer: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse) {
        add(.GET, pattern, access, immediate: answer) { try answer($0, $1) }
    }

    /// The handler's context once `caller` is admitted to the route.
    private static func context(of request: HTTPRequest, caller: Caller?, access: Access, logger: Logger) throws -> RequestContext {
        try access.admit(caller)
        return RequestContext(
            authenticated: caller, baseLogger: logger, requestID: request.id, parameters: PathParameters(values: request.parameters))
    }

    mutating func get(
        _ pattern: String, _ access: Access, query: [String] = [], offers: [Representation] = [.json], immediate: ImmediateHandler? = nil,
        _ handler: @escaping Handler
    ) {
        add(.GET, pattern, access, query: query, offers: offers, immediate: immediate, handler)
    }
    /// Adds a `POST` route; one with `maxBodyBytes` has a body over that many bytes
    /// refused on the request's head (or as a chunked body passes it), before it is read.
    mutating func post(_ pattern: String, _ access: Access, query: [String] = [], maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        add(.POST, pattern, access, query: query, handler)
        bodyLimits[Self.key(.POST, pattern)] = maxBodyBytes
    }
    mutating func patch(_ pattern: String, _ access: Access, _ handler: @escaping Handler) { add(.PATCH, pattern, access, handler) }
    mutating func delete(_ pattern: String, _ access: Access, _ handler: @escaping Handler) { add(.DELETE, pattern, access, handler) }

    /// The access declared for a routed request (by its matched pattern); `nil` when unrouted.
    func access(of request: HTTPRequest) -> Access? {
        request.route.flatMap { access[Self.key(request.method, $0)] }
    }

    /// The body limit declared for a routed request; `nil` when it has none (or is unrouted).
    func maxBodyBytes(of request: HTTPRequest) -> Int? {
        request.route.flatMap { bodyLimits[Self.key(request.method, $0)] }
    }

    private static func key(_ method: HTTPMethod, _ pattern: String) -> String { "\(method.rawValue) \(pattern)" }
}
