import NIOCore

/// Limits and address of an `HTTPServer`.
///
/// Every limit exists so that one client, however it behaves, cannot take the server
/// down: bodies are bounded per request and across the server, request heads have a
/// deadline, bodies a minimum rate.
public struct HTTPServerConfiguration: Sendable {
    public var host: String
    /// `0` picks a free port (tests read it back from `localAddress`).
    public var port: Int
    /// Bodies over this many bytes are refused with 413.
    public var maxBodySize: Int
    /// A connection that sends nothing for this long, between or inside requests, is closed.
    public var idleTimeout: TimeAmount
    /// A request head must be complete this long after its first byte, or it gets 408.
    public var headTimeout: TimeAmount
    /// A body must arrive at least this fast, measured over each `bodyRateWindow`, or it gets 408.
    public var minBodyBytesPerSecond: Int
    /// How long a stretch of body the minimum rate is measured over.
    public var bodyRateWindow: TimeAmount
    /// Request-body bytes the whole server holds at once; a request that would exceed it
    /// gets 503 with `Retry-After` before its body is read. Default: 4 × `maxBodySize`.
    public var maxBodyBytesInFlight: Int
    /// How long a handler may work on one request before it is cancelled with a 503
    /// `request-budget-exceeded` (a streamed body, paced by its client, is not counted).
    public var requestBudget: Duration
    /// On shutdown, how long requests in flight may still finish before their connections
    /// are closed and their work cancelled.
    public var shutdownGrace: TimeAmount

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodySize: Int = 32 * 1024 * 1024,
        idleTimeout: TimeAmount = .seconds(30), headTimeout: TimeAmount = .seconds(10),
        minBodyBytesPerSecond: Int = 1024, bodyRateWindow: TimeAmount = .seconds(10),
        maxBodyBytesInFlight: Int? = nil, requestBudget: Duration = .seconds(60),
        shutdownGrace: TimeAmount = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.maxBodySize = maxBodySize
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
        self.minBodyBytesPerSecond = minBodyBytesPerSecond
        self.bodyRateWindow = bodyRateWindow
        self.maxBodyBytesInFlight = maxBodyBytesInFlight ?? 4 * maxBodySize
        self.requestBudget = requestBudget
        self.shutdownGrace = shutdownGrace
    }
}
