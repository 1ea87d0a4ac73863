import NIOHTTP1

/// Maps a method and a path such as `/v1/indicators/{code}` to a handler.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse
    /// Answers without waiting, inside the event loop's read, or returns `nil` when the
    /// answer needs a wait (a cache miss): then the route's `Handler` runs in a task.
    public typealias ImmediateHandler = @Sendable (HTTPRequest) throws -> HTTPResponse?

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    struct Route: Sendable {
        var method: HTTPMethod
        var pattern: String
        var segments: [Segment]
        var contract: RouteContract
        var handler: Handler
        var immediate: ImmediateHandler?
    }

    /// The outcome of matching a request.
    public enum Match: Sendable {
        /// `pattern` is the route's template (`/v1/indicators/{code}`), for logs and metrics.
        case found(Handler, immediate: ImmediateHandler?, parameters: [String: String], pattern: String)
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private(set) var routes: [Route] = []
    /// Positions in `routes` by number of segments: a path is only compared with the routes
    /// it could match (a linear pass over every route was a tenth of `/healthz`'s time).
    private var positionsByLength: [Int: [Int]] = [:]

    public init() {}

    /// Adds a route; `{name}` segments capture path parameters. `query` lists the query
    /// parameters the handler reads and `offers` its representations (JSON unless told):
    /// the request is checked against them before the handler runs (see `RouteContract`).
    /// A route with an `immediate` handler tries it first (see `ImmediateHandler`).
    public mutating func add(
        _ method: HTTPMethod, _ pattern: String, query: [String] = [], offers: [Representation] = [.json],
        immediate: ImmediateHandler? = nil, _ handler: @escaping Handler
    ) {
        let segments = Self.components(pattern).map { part -> Segment in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
        precondition(
            !routes.contains { $0.method == method && $0.segments == segments },
            "route \(method) \(pattern) is registered twice")
        let contract = RouteContract(parameters: query, offers: offers)
        let checked: Handler = { incoming in
            var request = incoming
            try contract.admit(&request, method: method, pattern: pattern)
            return contract.varied(try await handler(request))
        }
        var checkedImmediately: ImmediateHandler?
        if let immediate {
            checkedImmediately = { incoming in
                var request = incoming
                try contract.admit(&request, method: method, pattern: pattern)
                guard let response = try immediate(request) else { return nil }
                return contract.varied(response)
            }
        }
        positionsByLength[segments.count, default: []].append(routes.count)
        routes.append(
            Route(method: method, pattern: pattern, segments: segments, contract: contract, handler: checked, immediate: checkedImmediately))
    }

    /// Adds a GET route (see `add`).
    public mutating func get(_ pattern: String, query: [String] = [], offers: [Representation] = [.json], _ handler: @escaping Handler) {
        add(.GET, pattern, query: query, offers: offers, handler)
    }
    /// Adds a POST route (see `add`).
    public mutating func post(_ pattern: String, query: [String] = [], _ handler: @escaping Handler) { add(.POST, pattern, query: query, handler) }
    /// Adds a PATCH route (see `add`).
    public mutating func patch(_ pattern: String, query: [String] = [], _ handler: @escaping Handler) { add(.PATCH, pattern, query: query, handler) }
    /// Adds a PUT route (see `add`).
    public mutating func put(_ pattern: String, query: [String] = [], _ handler: @escaping Handler) { add(.PUT, pattern, query: query, handler) }
    /// Adds a DELETE route (see `add`).
    public mutating func delete(_ pattern: String, query: [String] = [], _ handler: @escaping Handler) { add(.DELETE, pattern, query: query, handler) }

    /// Every registered route with its contract, in registration order (for tests and docs).
    public var contracts: [(method: HTTPMethod, pattern: String, contract: RouteContract)] {
        routes.map { ($0.method, $0.pattern, $0.contract) }
    }

    /// Finds the handler for a request; literal segments win over parameters.
    public func match(_ method: HTTPMethod, path: String) -> Match {
        let parts = Self.components(path)
        var allowed: [HTTPMethod] = []
        var best: (position: Int, literals: Int)?
        // Reads each route in place: binding `routes[position]` to a local copied it, a dozen retains.
        // Only the route chosen captures its parameters (a dictionary built for every route of
        // the path, other methods' too, was a third of the matching).
        for position in positionsByLength[parts.count] ?? [] {
            guard let literals = Self.literalsMatched(routes[position].segments, parts) else { continue }
            let routeMethod = routes[position].method
            guard routeMethod == method else {
                if !allowed.contains(routeMethod) { allowed.append(routeMethod) }
                continue
            }
            if best == nil || literals > best!.literals { best = (position, literals) }
        }
        if let best {
            let route = best.position
            return .found(
                routes[route].handler, immediate: routes[route].immediate, parameters: Self.parameters(routes[route].segments, parts),
                pattern: routes[route].pattern)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// How many literal segments `parts` matches, or `nil` when it does not match the route
    /// (a literal differs or a parameter is empty).
    private static func literalsMatched(_ segments: [Segment], _ parts: [Substring]) -> Int? {
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
    private static func parameters(_ segments: [Segment], _ parts: [Substring]) -> [String: String] {
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
