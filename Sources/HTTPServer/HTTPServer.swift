import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on a SwiftNIO channel pipeline.
///
/// Pipeline per connection: idle timeout and head deadline → HTTP codec → pipelining (one request at a
/// time, responses in order) → `HTTPRequestHandler`. Only the codec and the pipelining handler see
/// responses on their way out.
/// Shutdown stops accepting and lets in-flight requests finish for `shutdownGrace`; then it
/// closes the connections left, which cancels their work.
public final class HTTPServer: Service, Sendable {
    public let configuration: HTTPServerConfiguration
    private let routes: Routes
    private let problems: @Sendable (any Error) -> Problem?
    private let logger: Logger
    /// Request counts and durations by route; `/metrics` shows them with the app's own.
    public let metrics: ServiceMetrics
    private let requestLog: RequestLog
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox<State>(.idle)
    /// Open connections, closed by force when shutdown's grace period ends.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    private enum State {
        case idle
        case running(Channel, ServerQuiescingHelper)
        case stopped
    }

    /// `problems` turns an error a handler threw into the answer a client can act on (for
    /// example an unreachable database into 503 with `Retry-After`); what it does not
    /// recognise is a 500.
    public init<Context>(
        configuration: HTTPServerConfiguration, router: Router<Context>,
        problems: @escaping @Sendable (any Error) -> Problem? = { _ in nil }, logger: Logger,
        metrics: ServiceMetrics = ServiceMetrics(), requestLog: RequestLog? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.routes = router.routes
        self.problems = problems
        self.logger = logger
        self.metrics = metrics
        // Without a request log of its own, the server writes one line a request when its logger logs at info.
        self.requestLog = requestLog ?? RequestLog(format: .text, enabled: logger.logLevel <= .info)
        self.group = group
    }

    /// Binds the socket and starts accepting connections; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let quiesce = ServerQuiescingHelper(group: group)
        let responder = Responder(
            routes: routes, problems: problems, logger: logger, metrics: metrics, requestLog: requestLog,
            budget: configuration.requestBudget)
        let connections = self.connections
        let budget = BodyBudget(limit: configuration.maxBodyBytesInFlight)
        let configuration = self.configuration
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Responses queue up to 256 KiB per connection before reads stop (see HTTPRequestHandler).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                connections.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = connections.withLockedValue { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let timeouts = ConnectionTimeoutHandler(
                        idleTimeout: configuration.idleTimeout, headTimeout: configuration.headTimeout,
                        record: { responder.record(refusal: $0, head: nil, note: "request head not completed in time") }
                    )
                    try pipeline.addHandler(timeouts)
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
                    try pipeline.addHandler(
                        HTTPRequestHandler(
                            responder: responder, configuration: configuration, budget: budget, logger: logger,
                            timeouts: timeouts))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw HTTPServerError(
                "port \(configuration.port) on \(configuration.host) is already in use (another backbone serve?); choose another with --port or PORT"
            )
        } catch let error as IOError where error.errnoCode == EACCES {
            throw HTTPServerError(
                "not allowed to listen on port \(configuration.port) on \(configuration.host); choose a port above 1023 with --port or PORT"
            )
        } catch {
            throw HTTPServerError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        state.withLockedValue { $0 = .running(channel, quiesce) }
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return channel.localAddress!
    }

    /// The bound address while running.
    public var localAddress: SocketAddress? {
        state.withLockedValue { state in
            if case .running(let channel, _) = state { return channel.localAddress }
            return nil
        }
    }

    /// Stops accepting, waits up to `shutdownGrace` for in-flight requests to be answered,
    /// then closes every connection left (cancelling its request's work).
    public func shutdown() async throws {
        let quiesce: ServerQuiescingHelper? = state.withLockedValue { state in
            defer { state = .stopped }
            if case .running(_, let quiesce) = state { return quiesce }
            return nil
        }
        guard let quiesce else { return }
        logger.info("shutting down: finishing in-flight requests")
        let done = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: done)
        let connections = self.connections
        let logger = self.logger
        let grace = done.futureResult.eventLoop.scheduleTask(in: configuration.shutdownGrace) {
            let open = connections.withLockedValue { Array($0.values) }
            logger.warning(
                "shutdown grace period over: closing connections still working",
                metadata: ["connections": "\(open.count)"])
            for channel in open { channel.close(promise: nil) }
        }
        try await done.futureResult.get()
        grace.cancel()
        logger.info("stopped")
    }

    /// Runs until a graceful shutdown is requested (SIGTERM/SIGINT through a `ServiceGroup`).
    public func run() async throws {
        if localAddress == nil { try await start() }
        try await gracefulShutdown()
        try await shutdown()
    }
}

/// Why the server could not start, in words for the person who started it.
public struct HTTPServerError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
