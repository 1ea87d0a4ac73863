import NIOHTTP1

/// Builds the routes of a server: a method and a path such as `/v1/indicators/{code}`, its
/// options, how its request's context is found, and its handler.
///
/// `Context` is what the application learns about a request from its head, once, before
/// the body is read (for Backbone, who calls); handlers receive it with the request. The
/// routes the router builds are not generic (`Routes`): the server's code is compiled once,
/// in its own module, and a generic type there ran unspecialized, looking up type metadata
/// on every request.
public struct Router<Context: Sendable>: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, Context) async throws -> HTTPResponse
    /// Answers without waiting, inside the event loop's read, or returns `nil` when the
    /// answer needs a wait (a cache miss): then the route's `Handler` runs in a task.
    public typealias ImmediateHandler = @Sendable (HTTPRequest, Context) throws -> HTTPResponse?

    /// The routes added so far.
    public var routes: Routes { storage }
    @usableFromInline var storage = Routes()

    public init() {}

    /// Adds a route; `{name}` segments capture path parameters. `query` lists the query
    /// parameters the handler reads and `offers` its representations (JSON unless told):
    /// the request is checked against them on its head (see `RouteContract`), and so is
    /// `maxBodyBytes`. `context` finds the request's context, also on the head; a route
    /// with an `immediate` handler tries it first (see `ImmediateHandler`).
    ///
    /// Inlinable, so that the glue binding handlers to a context is specialised for the
    /// application's `Context` in its own module rather than run generically here.
    @inlinable
    public mutating func add(
        _ method: HTTPMethod, _ pattern: String, query: [String] = [], offers: [Representation] = [.json],
        maxBodyBytes: Int? = nil, context: ContextFinder<Context>, immediate: ImmediateHandler? = nil,
        _ handler: @escaping Handler
    ) {
        @Sendable func bound(_ context: Context) -> BoundHandlers {
            BoundHandlers { request in try await handler(request, context) }
        }
        storage.add(
            Route(
                method: method, pattern: pattern, segments: Routes.segments(pattern),
                contract: RouteContract(parameters: query, offers: offers), maxBodyBytes: maxBodyBytes,
                admitImmediately: { request in try context.immediately(request).map(bound) },
                answerImmediately: { request in
                    guard let found = try context.immediately(request) else { return .undecided }
                    if let immediate, let response = try immediate(request, found) { return .answered(response) }
                    return .admitted(bound(found))
                },
                admit: { request in bound(try await context.eventually(request)) }))
    }

    /// Every registered route with its contract, in registration order (for tests and docs).
    public var contracts: [(method: HTTPMethod, pattern: String, contract: RouteContract)] {
        routes.all.map { ($0.method, $0.pattern, $0.contract) }
    }

    /// Finds the route for a request (see `Routes.match`).
    public func match(_ method: HTTPMethod, path: String) -> Routes.Match {
        routes.match(method, path: path)
    }
}

/// A registered route: everything the server needs to know about it. A class: a request
/// carries its route from the head to the answer, and a struct of a dozen references was
/// copied, retain by retain, at every step.
public final class Route: Sendable {
    public let method: HTTPMethod
    /// The route's template (`/v1/indicators/{code}`), for logs and metrics.
    public let pattern: String
    @usableFromInline let segments: [RouteSegment]
    /// The query parameters it takes and the representations it offers.
    public let contract: RouteContract
    /// Bodies above this many bytes are refused on the head; `nil`: the server's limit.
    public let maxBodyBytes: Int?
    /// Finds the request's context without waiting and binds the handlers to it; `nil`
    /// when finding it needs a wait. Throwing refuses the request.
    let admitImmediately: @Sendable (HTTPRequest) throws -> BoundHandlers?
    /// For a request without a body: finds its context and answers it, both without
    /// waiting, as far as it can (a cached key and a cached record answer inside the
    /// event loop's read, allocating nothing for the handlers).
    let answerImmediately: @Sendable (HTTPRequest) throws -> ImmediateAnswer
    /// Finds the request's context, waiting if need be, and binds the handlers to it.
    let admit: @Sendable (HTTPRequest) async throws -> BoundHandlers

    @usableFromInline
    init(
        method: HTTPMethod, pattern: String, segments: [RouteSegment], contract: RouteContract, maxBodyBytes: Int?,
        admitImmediately: @escaping @Sendable (HTTPRequest) throws -> BoundHandlers?,
        answerImmediately: @escaping @Sendable (HTTPRequest) throws -> ImmediateAnswer,
        admit: @escaping @Sendable (HTTPRequest) async throws -> BoundHandlers
    ) {
        self.method = method
        self.pattern = pattern
        self.segments = segments
        self.contract = contract
        self.maxBodyBytes = maxBodyBytes
        self.admitImmediately = admitImmediately
        self.answerImmediately = answerImmediately
        self.admit = admit
    }
}

/// A route's handler once its request's context is found.
@usableFromInline
struct BoundHandlers: Sendable {
    let respond: @Sendable (HTTPRequest) async throws -> HTTPResponse

    @usableFromInline
    init(respond: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse) {
        self.respond = respond
    }
}

/// How far a route got with a request without waiting.
@usableFromInline
enum ImmediateAnswer: Sendable {
    /// Answered.
    case answered(HTTPResponse)
    /// The context is found; the answer needs a wait.
    case admitted(BoundHandlers)
    /// Finding the context needs a wait.
    case undecided
}

@usableFromInline
enum RouteSegment: Sendable, Equatable {
    case literal(String)
    case parameter(String)
}

/// The routes of a server, matched by method and path.
public struct Routes: Sendable {
    /// The outcome of matching a request.
    public enum Match: Sendable {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private(set) var all: [Route] = []
    /// Positions in `all` by number of segments: a path is only compared with the routes
    /// it could match (a linear pass over every route was a tenth of `/healthz`'s time).
    private var positionsByLength: [Int: [Int]] = [:]

    @usableFromInline
    mutating func add(_ route: Route) {
        precondition(
            !all.contains { $0.method == route.method && $0.segments == route.segments },
            "route \(route.method) \(route.pattern) is registered twice")
        positionsByLength[route.segments.count, default: []].append(all.count)
        all.append(route)
    }

    @usableFromInline
    static func segments(_ pattern: String) -> [RouteSegment] {
        components(pattern).map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    /// Finds the route for a request; literal segments win over parameters.
    public func match(_ method: HTTPMethod, path: String) -> Match {
        let parts = Self.components(path)
        var allowed: [HTTPMethod] = []
        var best: (position: Int, literals: Int)?
        // Reads each route in place: binding `all[position]` to a local copied it, a dozen retains.
        // Only the route chosen captures its parameters (a dictionary built for every route of
        // the path, other methods' too, was a third of the matching).
        for position in positionsByLength[parts.count] ?? [] {
            guard let literals = Self.literalsMatched(all[position].segments, parts) else { continue }
            let routeMethod = all[position].method
            guard routeMethod == method else {
                if !allowed.contains(routeMethod) { allowed.append(routeMethod) }
                continue
            }
            if best == nil || literals > best!.literals { best = (position, literals) }
        }
        if let best {
            return .found(all[best.position], parameters: Self.parameters(all[best.position].segments, parts))
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// How many literal segments `parts` matches, or `nil` when it does not match the route
    /// (a literal differs or a parameter is empty).
    private static func literalsMatched(_ segments: [RouteSegment], _ parts: [Substring]) -> Int? {
        guard segments.count == parts.count else { return nil }
        var literals = 0
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard text == part else { return nil }
                literals += 1
            case .parameter:
                guard !part.isEmpty else { return nil }
            }
        }
        return literals
    }

    /// The values of a matched route's `{name}` segments, percent-decoded.
    private static func parameters(_ segments: [RouteSegment], _ parts: [Substring]) -> [String: String] {
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            if case .parameter(let name) = segment { parameters[name] = Self.decoded(part) }
        }
        return parameters
    }

    /// A percent-decoded path segment; one without `%` is taken as it is (Foundation's
    /// decoding goes through CFString, a fifth of a cached registry read).
    private static func decoded(_ part: Substring) -> String {
        let text = String(part)
        guard part.utf8.contains(UInt8(ascii: "%")) else { return text }
        return text.removingPercentEncoding ?? text
    }

    /// A path's segments without the leading `/` and a trailing one (`/a/b/` → `a`, `b`).
    /// Split at `/` bytes, as URLs are: splitting by characters (grapheme breaking at every
    /// step) was a third of matching a route.
    private static func components(_ path: String) -> [Substring] {
        guard !path.isEmpty else { return [] }
        let bytes = path.utf8
        var parts: [Substring] = []
        parts.reserveCapacity(8)
        var start = bytes.first == UInt8(ascii: "/") ? bytes.index(after: bytes.startIndex) : bytes.startIndex
        var index = start
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "/") {
                parts.append(path[start..<index])
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        parts.append(path[start..<bytes.endIndex])
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        return parts
    }
}

/// How a route finds its request's context on the head: at once when it can (a cached
/// key), else with a wait (the database). Throwing refuses the request before its body.
public struct ContextFinder<Context: Sendable>: Sendable {
    /// The context without waiting, or `nil` when finding it needs a wait.
    public var immediately: @Sendable (HTTPRequest) throws -> Context?
    /// The context, waiting if need be.
    public var eventually: @Sendable (HTTPRequest) async throws -> Context

    public init(
        immediately: @escaping @Sendable (HTTPRequest) throws -> Context?,
        eventually: @escaping @Sendable (HTTPRequest) async throws -> Context
    ) {
        self.immediately = immediately
        self.eventually = eventually
    }
}

extension ContextFinder where Context == Void {
    /// For routes that need nothing but the request.
    public static var none: Self { Self(immediately: { _ in () }, eventually: { _ in () }) }
}

extension Router where Context == Void {
    /// Adds a route whose handler needs only the request (see `add`).
    public mutating func add(
        _ method: HTTPMethod, _ pattern: String, query: [String] = [], offers: [Representation] = [.json],
        maxBodyBytes: Int? = nil, _ handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse
    ) {
        add(method, pattern, query: query, offers: offers, maxBodyBytes: maxBodyBytes, context: .none) { request, _ in
            try await handler(request)
        }
    }

    /// Adds a GET route whose handler needs only the request.
    public mutating func get(
        _ pattern: String, query: [String] = [], offers: [Representation] = [.json],
        _ handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse
    ) {
        add(.GET, pattern, query: query, offers: offers, handler)
    }

    /// Adds a POST route whose handler needs only the request.
    public mutating func post(
        _ pattern: String, query: [String] = [], maxBodyBytes: Int? = nil,
        _ handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse
    ) {
        add(.POST, pattern, query: query, maxBodyBytes: maxBodyBytes, handler)
    }
}
