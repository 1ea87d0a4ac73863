import BackboneCore
import HTTPServer
import Logging
import NIOHTTP1

/// Backbone's routes, each declared with who may call it (`Access`). Wraps the server's
/// `Router`: every handler gets its caller checked and a `RequestContext` built here, in
/// one place, and the head-of-request policy reads the same declarations.
struct RouteTable: Sendable {
    typealias Handler = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse

    private(set) var router = Router()
    /// Each route's access by "METHOD pattern", for the check on a request's head.
    private(set) var access: [String: Access] = [:]
    let authenticator: Authenticator
    let logger: Logger

    init(authenticator: Authenticator, logger: Logger) {
        self.authenticator = authenticator
        self.logger = logger
    }

    /// Adds a route (see `Router.add` for `query` and `offers`) that `access` guards.
    mutating func add(
        _ method: HTTPMethod, _ pattern: String, _ access: Access, query: [String] = [], offers: [Representation] = [.json],
        _ handler: @escaping Handler
    ) {
        self.access[Self.key(method, pattern)] = access
        let authenticator = self.authenticator
        let logger = self.logger
        router.add(method, pattern, query: query, offers: offers) { request in
            let caller = access == .public ? nil : try await authenticator.caller(of: request)
            try access.admit(caller)
            let context = RequestContext(
                authenticated: caller, baseLogger: logger, requestID: request.id, parameters: PathParameters(values: request.parameters))
            do {
                return try await handler(request, context)
            } catch let error as DomainError {
                throw Problem(error)
            }
        }
    }

    mutating func get(_ pattern: String, _ access: Access, query: [String] = [], offers: [Representation] = [.json], _ handler: @escaping Handler) {
        add(.GET, pattern, access, query: query, offers: offers, handler)
    }
    mutating func post(_ pattern: String, _ access: Access, query: [String] = [], _ handler: @escaping Handler) {
        add(.POST, pattern, access, query: query, handler)
    }
    mutating func patch(_ pattern: String, _ access: Access, _ handler: @escaping Handler) { add(.PATCH, pattern, access, handler) }
    mutating func delete(_ pattern: String, _ access: Access, _ handler: @escaping Handler) { add(.DELETE, pattern, access, handler) }

    /// The access declared for a routed request (by its matched pattern); `nil` when unrouted.
    func access(of request: HTTPRequest) -> Access? {
        request.route.flatMap { access[Self.key(request.method, $0)] }
    }

    private static func key(_ method: HTTPMethod, _ pattern: String) -> String { "\(method.rawValue) \(pattern)" }
}
