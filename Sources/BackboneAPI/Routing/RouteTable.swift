import BackboneCore
import HTTPServer
import Logging
import NIOHTTP1

/// Backbone's routes, each declared with who may call it (`Access`) beside its other
/// options. The server matches a request's head to its route once and finds its
/// `RequestContext` once, on the head (so a caller the route refuses is refused before
/// its body is read); handlers receive both.
struct RouteTable: Sendable {
    typealias Handler = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse
    /// Answers without waiting or returns `nil` (see `Router.ImmediateHandler`); it runs
    /// only when the caller's key is cached.
    typealias ImmediateHandler = @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse?

    private(set) var router = Router<RequestContext>()
    let authenticator: Authenticator
    let logger: Logger
    /// Where reads go with a replica, and the marks writes leave.
    let reads: ReplicaReads

    init(authenticator: Authenticator, reads: ReplicaReads, logger: Logger) {
        self.authenticator = authenticator
        self.reads = reads
        self.logger = logger
    }

    /// Adds a route (see `Router.add` for `query`, `offers` and `maxBodyBytes`) that
    /// `access` guards; one with an `immediate` handler tries it first, inside the event
    /// loop's read. A `GET` reads from a replica when one is set and has its caller's
    /// writes, unless `onPrimary` (a route that fills a cache every caller shares, whose
    /// entries must not be older than the notifications that empty it); any other method
    /// records its caller's write (`ReplicaReads`).
    mutating func add(
        _ method: HTTPMethod, _ pattern: String, _ access: Access, query: [String] = [],
        offers: [Representation] = [.json],
        maxBodyBytes: Int? = nil, immediate: ImmediateHandler? = nil, onPrimary: Bool = false,
        _ handler: @escaping Handler
    ) {
        router.add(
            method, pattern, query: query, offers: offers, maxBodyBytes: maxBodyBytes, context: context(access),
            immediate: immediate, routed(method, onPrimary: onPrimary, handler))
    }

    /// `handler` with its reads routed (a `GET`) or its write marked (any other method).
    private func routed(_ method: HTTPMethod, onPrimary: Bool, _ handler: @escaping Handler) -> Handler {
        let reads = self.reads
        guard reads.replica != nil else { return handler }
        if method == .GET {
            if onPrimary { return handler }
            return { request, context in
                try await reads.read(by: context.authenticated) { try await handler(request, context) }
            }
        }
        return { request, context in
            let response = try await handler(request, context)
            await reads.wrote(context.authenticated, response)
            return response
        }
    }

    /// How a route guarded by `access` finds its caller: from the key cache when it can.
    private func context(_ access: Access) -> ContextFinder<RequestContext> {
        let authenticator = self.authenticator
        let logger = self.logger
        guard access != .public else {
            return ContextFinder(
                immediately: { RequestContext(of: $0, caller: nil, logger: logger) },
                eventually: { RequestContext(of: $0, caller: nil, logger: logger) })
        }
        return ContextFinder(
            immediately: { request in
                guard let caller = try authenticator.cachedCaller(of: request) else { return nil }
                try access.admit(caller)
                return RequestContext(of: request, caller: caller, logger: logger)
            },
            eventually: { request in
                let caller = try await authenticator.caller(of: request)
                try access.admit(caller)
                return RequestContext(of: request, caller: caller, logger: logger)
            })
    }

    /// Adds a route that always answers without waiting (`/healthz`).
    mutating func getImmediately(
        _ pattern: String, _ access: Access,
        _ answer: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse
    ) {
        add(.GET, pattern, access, immediate: answer, onPrimary: true) { try answer($0, $1) }
    }

    mutating func get(
        _ pattern: String, _ access: Access, query: [String] = [], offers: [Representation] = [.json],
        immediate: ImmediateHandler? = nil, onPrimary: Bool = false,
        _ handler: @escaping Handler
    ) {
        add(.GET, pattern, access, query: query, offers: offers, immediate: immediate, onPrimary: onPrimary, handler)
    }
    /// Adds a `POST` route; one with `maxBodyBytes` has a body over that many bytes
    /// refused on the request's head (or as a chunked body passes it), before it is read.
    mutating func post(
        _ pattern: String, _ access: Access, query: [String] = [], maxBodyBytes: Int? = nil,
        _ handler: @escaping Handler
    ) {
        add(.POST, pattern, access, query: query, maxBodyBytes: maxBodyBytes, handler)
    }
    /// Adds a `POST` route that finds its caller itself, on the request's head (the
    /// dashboard's forms, whose caller comes from a session cookie): `admit` returns the
    /// caller (nil for none, for the handler to answer) or throws to refuse the request
    /// before its body is read.
    mutating func post(
        _ pattern: String, admitting admit: @escaping @Sendable (HTTPRequest) async throws -> Caller?,
        _ handler: @escaping Handler
    ) {
        add(.POST, pattern, identifying: admit, handler)
    }

    /// Adds a `GET` route that finds its caller itself, on the request's head (the
    /// dashboard's pages, signed in by a session cookie or a key): `identify` returns the
    /// caller, nil for none (the handler answers that), so its reads follow its caller's
    /// writes like any other route's.
    mutating func get(
        _ pattern: String, identifying identify: @escaping @Sendable (HTTPRequest) async throws -> Caller?,
        query: [String] = [], offers: [Representation] = [.json], _ handler: @escaping Handler
    ) {
        add(.GET, pattern, identifying: identify, query: query, offers: offers, handler)
    }

    private mutating func add(
        _ method: HTTPMethod, _ pattern: String,
        identifying identify: @escaping @Sendable (HTTPRequest) async throws -> Caller?,
        query: [String] = [], offers: [Representation] = [.json], _ handler: @escaping Handler
    ) {
        let logger = self.logger
        router.add(
            method, pattern, query: query, offers: offers,
            context: ContextFinder(
                immediately: { _ in nil },
                eventually: { request in
                    RequestContext(of: request, caller: try await identify(request), logger: logger)
                }
            ),
            routed(method, onPrimary: false, handler))
    }
    mutating func put(_ pattern: String, _ access: Access, query: [String] = [], _ handler: @escaping Handler) {
        add(.PUT, pattern, access, query: query, handler)
    }
    mutating func patch(_ pattern: String, _ access: Access, _ handler: @escaping Handler) {
        add(.PATCH, pattern, access, handler)
    }
    mutating func delete(_ pattern: String, _ access: Access, _ handler: @escaping Handler) {
        add(.DELETE, pattern, access, handler)
    }
}
